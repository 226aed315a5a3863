// Runs test files with node:test's run(), N at a time, started in the order given (the `--test` CLI
// sorts files by name, so run-tests.ts could not start the slowest first): the spec report to
// stdout; the counts of leaf tests and each file's top-level test times to a JSON file at exit.
// Usage (run-tests.ts spawns it): node --import tsx scripts/run-files.ts COUNTS.json CONCURRENCY FILE...
import { writeFileSync } from 'node:fs';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

interface TestEvent {
  readonly nesting: number;
  readonly file?: string;
  readonly skip?: unknown;
  readonly todo?: unknown;
  readonly details?: { readonly duration_ms?: number; readonly type?: string };
}

const [countsFile, concurrencyText, ...files] = process.argv.slice(2);
if (!countsFile || !Number(concurrencyText) || files.length === 0) {
  console.error('usage: run-files.ts COUNTS.json CONCURRENCY FILE...');
  process.exit(2);
}
const counts = { passed: 0, failed: 0, skipped: 0, fileMs: {} as Record<string, number> };
const tally = (d: TestEvent, passed: boolean): void => {
  if (d.nesting === 0 && d.file) counts.fileMs[d.file] = (counts.fileMs[d.file] ?? 0) + (d.details?.duration_ms ?? 0);
  if (d.details?.type === 'suite') return;
  if (d.skip !== undefined || d.todo !== undefined) counts.skipped++;
  else if (passed) counts.passed++;
  else counts.failed++;
};
process.on('exit', () => writeFileSync(countsFile, JSON.stringify(counts)));
// timeout: a safety net against hangs; tests set tighter limits themselves
const stream = run({ files, concurrency: Number(concurrencyText), timeout: 1_200_000 });
stream.on('test:pass', (d: TestEvent) => tally(d, true));
stream.on('test:fail', (d: TestEvent) => tally(d, false));
stream.compose(new spec()).pipe(process.stdout);
