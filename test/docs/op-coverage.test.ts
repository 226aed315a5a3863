// STYLE.md 7: every registered op has test cases, and docs/ops.md (supported and unsupported ops,
// cases that cannot run) is current.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { registeredOps } from '../../kernels/coverage.ts';
import { renderOpCoverage } from '../../scripts/op-coverage.ts';
import { repoRoot } from '../helpers/paths.ts';

test('docs/ops.md matches the registry and the conformance data', () => {
  const current = readFileSync(join(repoRoot, 'docs/ops.md'), 'utf8');
  assert.ok(current === renderOpCoverage(), 'docs/ops.md is stale: run node --import tsx scripts/op-coverage.ts');
});

test('every registered op has random-input test cases or runnable conformance cases', () => {
  const opTests = readdirSync(join(repoRoot, 'test/ops'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(repoRoot, 'test/ops', f), 'utf8'))
    .join('\n');
  const doc = readFileSync(join(repoRoot, 'docs/ops.md'), 'utf8');
  const untested = registeredOps().filter(({ opType, domain }) => {
    const name = domain ? `${domain}.${opType}` : opType;
    const inOpTests = new RegExp(`['"\`]${opType}['"\`]`).test(opTests);
    const row = doc.split('\n').find((l) => l.startsWith(`| ${name} |`));
    const runnable = Number(row?.split('|')[5]?.trim() ?? 0);
    return !inOpTests && runnable === 0;
  });
  assert.deepEqual(untested.map((o) => o.opType), [], 'these ops have no tests');
});
