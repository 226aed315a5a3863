// The whole project type-checks (tsconfig.json: runtime, kernels, tests, scripts, bench, trainer,
// collector, demo), inside the counted test run so a type error fails `npm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTool } from './run-tool.ts';

test('tsc -p tsconfig.json --noEmit reports no errors', { timeout: 10 * 60_000 }, async () => {
  const r = await runTool('tsc', ['-p', 'tsconfig.json', '--noEmit']);
  console.log(`# tsc took ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `tsc exited with ${r.code}:\n${r.output}`);
});
