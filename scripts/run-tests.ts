// Runs every test file (Node and browser) with node:test (scripts/run-files.ts) and ends with "N passed, N failed".
// Random test data comes from one base seed (KILN_TEST_SEED, else a fresh one), printed first and
// beside the counts, so any run can be replayed (see test/helpers/random.ts).
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { testEnv } from './test-env.ts';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const given = process.env.KILN_TEST_SEED;
if (given !== undefined && given !== '' && !(Number.isInteger(Number(given)) && Number(given) >= 0 && Number(given) < 2 ** 32)) {
  console.error(`KILN_TEST_SEED must be an integer in 0..2^32-1, got '${given}'`);
  process.exit(2);
}
const seed = given !== undefined && given !== '' ? Number(given) : randomInt(2 ** 32 - 1);
const replay = `replay: KILN_TEST_SEED=${seed}`;
console.log(`random test data seed ${seed} (${given ? 'given' : 'fresh'}); ${replay}`);

/**
 * Files started first, longest first (from the slowest-files list a full run prints; 60-110 s each on
 * this machine): with two at a time, a long file started last ran alone at the end while the other
 * lane sat idle (lanes were 87% busy in a 1817 s run). The rest follow in name order.
 */
const SLOW_FIRST = [
  'test/conformance/webgpu-1.test.ts',
  'test/compress/paddle-qdq.test.ts',
  'test/graph/fuse-qdq-webgpu.test.ts',
  'test/bench/quick-bench.test.ts',
  'test/graph/qdq-ort-parity.test.ts',
  'test/browser/demo-pwa.test.ts',
  'test/conformance/webgpu-2.test.ts',
  'test/conformance/webgpu-3.test.ts',
  'test/ops/qlinear-conv.test.ts',
  'test/ops/conv.test.ts',
  'test/ops/reduce.test.ts',
  'test/ops/matmul-nbits.test.ts',
  'test/browser/loading.test.ts',
  'test/conformance/webgpu-hardware-1.test.ts',
  'test/conformance/webgpu-hardware-2.test.ts',
  'test/ops/elementwise-unary.test.ts',
  'test/browser/wasm-fallbacks.test.ts',
];

function slowFirst(all: readonly string[]): string[] {
  const norm = (f: string): string => f.split('\\').join('/');
  const known = SLOW_FIRST.filter((f) => all.some((a) => norm(a) === f));
  return [...known, ...all.filter((a) => !known.includes(norm(a)))];
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : slowFirst(findTests('test'));
// node:test runs availableParallelism() - 1 files at once by default: one at a time on a 2-core CI
// machine, where the suite then used 1.1 cores on average (user+sys 28 min in 26 min of wall time)
// and came within 4 minutes of CI's 30-minute limit. Files are separate processes; shared outputs
// (dist/, the demo build) are built under a lock (scripts/browser/ensure-build.ts).
// KILN_TEST_CONCURRENCY overrides (1 to rule out an interaction between files).
const concurrency = Number(process.env.KILN_TEST_CONCURRENCY) || Math.max(2, availableParallelism());
const countsFile = join(mkdtempSync(join(tmpdir(), 'kiln-test-')), 'counts.json');
const started = Date.now();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', 'scripts/run-files.ts', countsFile, String(concurrency), ...files],
  { stdio: 'inherit', env: { ...testEnv(), KILN_TEST_SEED: String(seed) } },
);
let counts: { passed: number; failed: number; skipped: number; fileMs?: Record<string, number> } = { passed: 0, failed: 0, skipped: 0 };
try {
  counts = JSON.parse(readFileSync(countsFile, 'utf8')) as typeof counts;
} catch {
  counts.failed = Math.max(1, counts.failed); // the runner died before reporting
}
if (result.status !== 0 && counts.failed === 0) counts.failed = 1; // a file crashed outside any test
const slowest = Object.entries(counts.fileMs ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 15);
if (slowest.length > 0) console.log(`\nslowest files (sum of their top-level tests):\n${slowest.map(([f, ms]) => `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(process.cwd(), f)}`).join('\n')}`);
console.log(`\ntest files: ${files.length} (${concurrency} at a time), duration ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped; ${replay}`);
process.exit(counts.failed > 0 ? 1 : 0);
