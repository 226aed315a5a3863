// node:test reporter that counts leaf tests and sums each file's top-level test times, and writes
// both as JSON to its destination (run-tests.ts prints the counts and the slowest files: CI's
// 30-minute budget is watched from its log).
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const fileMs = {};
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.nesting === 0 && event.data.file) fileMs[event.data.file] = (fileMs[event.data.file] ?? 0) + (event.data.details?.duration_ms ?? 0);
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip !== undefined || event.data.todo !== undefined) counts.skipped++;
    else if (event.type === 'test:pass') counts.passed++;
    else counts.failed++;
  }
  yield JSON.stringify({ ...counts, fileMs });
}
