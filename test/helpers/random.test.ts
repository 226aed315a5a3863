// The seeding contract of test/helpers/random.ts: one base seed replays every stream, in any
// process; streams with different names or base seeds differ.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from './paths.ts';
import { seedFor, testRng } from './random.ts';

/** The first values of stream `name` drawn by a fresh process given KILN_TEST_SEED (as the runner gives it). */
function drawInChild(baseSeed: string, name: string): number[] {
  const code = `import('./test/helpers/random.ts').then((m) => { const r = m.testRng(${JSON.stringify(name)}); console.log(JSON.stringify([r.uniform(), r.uniform(), r.uniform()])); })`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: repoRoot, env: { ...process.env, KILN_TEST_SEED: baseSeed }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as number[];
}

test('one base seed replays a stream in another process; another base seed or name draws other values', () => {
  const a = drawInChild('12345', 'test/some/file.test.ts');
  assert.deepEqual(drawInChild('12345', 'test/some/file.test.ts'), a);
  assert.notDeepEqual(drawInChild('12346', 'test/some/file.test.ts'), a);
  assert.notDeepEqual(drawInChild('12345', 'test/other/file.test.ts'), a);
});

test('this process draws what a fresh process with the same base seed draws', () => {
  const base = process.env.KILN_TEST_SEED;
  assert.ok(base !== undefined, 'the runner passes KILN_TEST_SEED to every test process');
  const here = testRng('replay check');
  assert.deepEqual(drawInChild(base, 'replay check'), [here.uniform(), here.uniform(), here.uniform()]);
});

test('a file URL names its stream by the repository-relative path', () => {
  assert.equal(seedFor(import.meta.url), seedFor('test/helpers/random.test.ts'));
  assert.notEqual(seedFor(import.meta.url, 'a'), seedFor(import.meta.url, 'b'));
});
