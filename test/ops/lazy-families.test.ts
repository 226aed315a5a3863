// Op families outside the core set load on demand (kernels/lazy-families.ts). This file does not import
// kernels/all-ops.ts until its last tests, so it sees what a session sees: lazy ops known by key but
// not defined until their group loads.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { opKey } from '../../kernels/contract.ts';
import { definitions as core, resolveDefinition } from '../../kernels/definitions.ts';
import { LAZY_GROUP_NAMES, LAZY_OP_KEYS, lazyGroupOf } from '../../kernels/lazy-families.ts';
import { checkOpsSupported } from '../../runtime/plan/resolved-graph.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';
import { repoRoot } from '../helpers/paths.ts';

const cumsumModel = (opType: string, domain?: string): Uint8Array => encodeOnnxModel({
  opsets: { '': 17, ...(domain ? { [domain]: 1 } : {}) },
  inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [4] }],
  initializers: { axis: new Tensor('int32', [0], []) },
  nodes: [{ opType, ...(domain ? { domain } : {}), inputs: ['x', 'axis'], outputs: ['y'] }],
});

test('a lazy op is known by key before its group loads, and only then defined', () => {
  assert.equal(lazyGroupOf('', 'CumSum'), 'sequence');
  assert.equal(resolveDefinition('', 'CumSum'), undefined, 'the sequence group loaded without being asked for');
  checkOpsSupported([{ name: 'c', opType: 'CumSum', domain: '' }], true); // a streamed .kiln header: known
  assert.throws(() => checkOpsSupported([{ name: 'c', opType: 'CumSum', domain: '' }]), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_OPS');
  assert.throws(() => checkOpsSupported([{ name: 'f', opType: 'NoSuchOp', domain: '' }], true), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_OPS' && e.message.includes('NoSuchOp'));
});

test('a session loads the group of a lazy op it meets (CumSum on js and wasm) and names an unknown op', async () => {
  for (const backend of ['js', 'wasm'] as const) {
    const s = await InferenceSession.create(cumsumModel('CumSum'), { executionProviders: [backend] });
    try {
      const y = (await s.run({ x: new Tensor('float32', [1, 2, 3, 4], [4]) })).y!;
      assert.deepEqual(Array.from(y.data as Float32Array), [1, 3, 6, 10]); // running sums, by hand
    } finally {
      await s.release();
    }
  }
  assert.ok(resolveDefinition('', 'CumSum'));
  await assert.rejects(InferenceSession.create(cumsumModel('CumSumm'), { executionProviders: ['js'] }), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_OPS' && e.message.includes('CumSumm'));
});

test('LAZY_OP_KEYS lists exactly the ops of each group, none of them core', async () => {
  const { LAZY_GROUPS } = await import('../../kernels/all-ops.ts');
  const fromGroups: Record<string, string> = {};
  for (const name of LAZY_GROUP_NAMES) {
    const group = LAZY_GROUPS[name];
    const keys = new Set(group.definitions.map((d) => opKey(d.domain, d.opType)));
    for (const k of keys) fromGroups[k] = name;
    for (const table of [...group.js, ...group.webgpu]) for (const k of Object.keys(table)) assert.ok(keys.has(k), `${name}: kernel ${k} has no definition in its group`);
  }
  assert.deepEqual({ ...LAZY_OP_KEYS }, fromGroups);
  const coreKeys = core.map((d) => opKey(d.domain, d.opType));
  assert.deepEqual(coreKeys.filter((k) => k in LAZY_OP_KEYS), []);
});

test('every op family folder is in the core registry or in one lazy group', () => {
  const kernels = join(repoRoot, 'kernels');
  const registries = ['definitions.ts', ...readdirSync(join(kernels, 'lazy')).map((f) => `lazy/${f}`)].map((f) => readFileSync(join(kernels, f), 'utf8'));
  for (const family of readdirSync(kernels)) {
    if (!existsSync(join(kernels, family, 'op.ts'))) continue;
    const holders = registries.filter((src) => src.includes(`'../${family}/op.ts'`) || src.includes(`'./${family}/op.ts'`));
    assert.equal(holders.length, 1, `kernels/${family}/op.ts is imported by ${holders.length} registries (want exactly one)`);
  }
});
