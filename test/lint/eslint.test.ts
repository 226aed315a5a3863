// ESLint with the committed eslint.config.js (typescript-eslint recommended, no-explicit-any,
// ban-ts-comment) over everything git tracks, inside the counted test run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTool } from './run-tool.ts';

test('eslint . reports no problems', { timeout: 10 * 60_000 }, async () => {
  const r = await runTool('eslint', ['--max-warnings', '0', '.']);
  console.log(`# eslint took ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `eslint exited with ${r.code}:\n${r.output}`);
});
