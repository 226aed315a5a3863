// If as Optimum's merged decoders use it: a bool graph input (use_cache_branch) picks a branch that
// reads the outer graph's values. The planner replaces the node by its branch (runtime/plan/
// expand-if.ts); each backend must give onnxruntime-web's answer for both branches, with the
// branch's ops on the backend's own kernels, and bad conditions / branch ops fail with typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { encodeOnnxModel, type WriterGraph } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;
const D = 8;
const S = 3;
const P = 5;
const rng = testRng(import.meta.url, 'if-branches');
console.log(`If tests: KILN_TEST_SEED=${rng.seed}`);
const w = new Tensor('float32', rng.floats(D * D, -1, 1), [D, D]);
const bias = new Tensor('float32', rng.floats(D, -1, 1), [D]);

/**
 * h = Identity(x @ w) is read by both branches (remove-identity renames it: the branch still finds
 * it). then (with cache): present = Concat(past, h) along the sequence, logits = ReduceMean(present)
 * + a branch initializer, and a nested If whose condition folds at plan time (past has P rows);
 * else (no cache): present = Identity(h), logits = ReduceMean(h).
 */
function mergedDecoder(): Uint8Array {
  const nested: WriterGraph = {
    nodes: [{ opType: 'Add', inputs: ['mean_then', 'b_then'], outputs: ['logits_then'] }],
    inputs: [],
    outputs: [{ name: 'logits_then', dtype: 'float32' }],
  };
  const nestedElse: WriterGraph = { nodes: [{ opType: 'Neg', inputs: ['mean_then'], outputs: ['neg_then'] }], inputs: [], outputs: [{ name: 'neg_then', dtype: 'float32' }] };
  const thenBranch: WriterGraph = {
    nodes: [
      { opType: 'Concat', inputs: ['past', 'h'], outputs: ['present_then'], attrs: { axis: 1 } },
      { opType: 'ReduceMean', inputs: ['present_then', 'axes_then'], outputs: ['mean_then'], attrs: { keepdims: 0 } },
      { opType: 'Shape', inputs: ['past'], outputs: ['past_shape'], attrs: { start: 1, end: 2 } },
      { opType: 'Greater', inputs: ['past_shape', 'zero_then'], outputs: ['has_past'] },
      { opType: 'If', inputs: ['has_past'], outputs: ['logits_nested'], attrs: { then_branch: { graph: nested }, else_branch: { graph: nestedElse } } },
    ],
    inputs: [],
    outputs: [{ name: 'logits_nested', dtype: 'float32' }, { name: 'present_then', dtype: 'float32' }],
    initializers: { axes_then: new Tensor('int64', new BigInt64Array([1n]), [1]), zero_then: new Tensor('int64', new BigInt64Array([0n]), [1]), b_then: bias },
  };
  const elseBranch: WriterGraph = {
    nodes: [
      { opType: 'ReduceMean', inputs: ['h', 'axes_else'], outputs: ['logits_else'], attrs: { keepdims: 0 } },
      { opType: 'Identity', inputs: ['h'], outputs: ['present_else'] },
    ],
    inputs: [],
    outputs: [{ name: 'logits_else', dtype: 'float32' }, { name: 'present_else', dtype: 'float32' }],
    initializers: { axes_else: new Tensor('int64', new BigInt64Array([1n]), [1]) },
  };
  return encodeOnnxModel({
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
      { opType: 'Identity', inputs: ['xw'], outputs: ['h'] },
      { opType: 'If', inputs: ['use_cache_branch'], outputs: ['logits', 'present'], attrs: { then_branch: { graph: thenBranch }, else_branch: { graph: elseBranch } } },
    ],
    inputs: [
      { name: 'x', dtype: 'float32', dims: [1, S, D] },
      { name: 'past', dtype: 'float32', dims: [1, P, D] },
      { name: 'use_cache_branch', dtype: 'bool', dims: [1] },
    ],
    outputs: [{ name: 'logits', dtype: 'float32' }, { name: 'present', dtype: 'float32' }],
    initializers: { w },
    opsets: { '': 18 },
  });
}

function toOrt(t: AnyTensor): ort.Tensor {
  return t.type === 'bool' ? new ort.Tensor('bool', t.data as Uint8Array, [...t.dims]) : new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<Record<string, AnyTensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, new Tensor('float32', t.data as Float32Array, t.dims)]));
  } finally {
    await s.release();
  }
}

const BACKENDS = ['js', 'wasm', 'webgpu'] as const;

test(`merged-decoder If: both branches on every backend match onnxruntime-web (seed ${rng.seed})`, { timeout: 120_000 }, async () => {
  const bytes = mergedDecoder();
  const x = new Tensor('float32', rng.floats(S * D, -1, 1), [1, S, D]);
  const past = new Tensor('float32', rng.floats(P * D, -1, 1), [1, P, D]);
  for (const ep of BACKENDS) {
    const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
    assert.equal(s.executionProvider, ep);
    // The same session runs both branches, in both orders: one plan per condition value.
    for (const useCache of [true, false, true]) {
      const feeds = { x, past, use_cache_branch: new Tensor('bool', new Uint8Array([useCache ? 1 : 0]), [1]) };
      const want = await ortRun(bytes, feeds);
      const got = await s.run(feeds);
      for (const name of ['logits', 'present']) {
        const diff = compareTensors(got[name]!, want[name]!, { rtol: 1e-5, atol: 1e-6 });
        assert.equal(diff, undefined, `${ep} use_cache_branch=${useCache} ${name}: ${diff}`);
      }
      const ops = (s.lastPlacement?.steps ?? []).map((st) => st.node);
      if (useCache) assert.ok(ops.some((n) => n.startsWith('If_2/') && /Concat/.test(n)), `${ep}: the then branch's Concat should run as a step: ${ops.join(', ')}`);
      else assert.ok(!ops.some((n) => n.startsWith('If_2/Concat')), `${ep}: the else branch must not run the then branch's nodes: ${ops.join(', ')}`);
    }
    if (ep === 'wasm') assert.ok(s.lastPlacement?.steps.some((st) => st.implementation === 'wasm'), 'the MatMul before the If runs in a wasm kernel');
    await s.release();
  }
});

test(`an If whose condition is computed from the data (ReduceSum(x) > 0) picks per run, as onnxruntime-web does (seed ${rng.seed})`, { timeout: 120_000 }, async () => {
  const branch = (op: string, out: string): WriterGraph => ({ nodes: [{ opType: op, inputs: ['x'], outputs: [out] }], inputs: [], outputs: [{ name: out, dtype: 'float32' }] });
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attrs: { keepdims: 0 } },
      { opType: 'Greater', inputs: ['sum', 'zero'], outputs: ['positive'] },
      { opType: 'If', inputs: ['positive'], outputs: ['y'], attrs: { then_branch: { graph: branch('Relu', 'r') }, else_branch: { graph: branch('Neg', 'n') } } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { zero: new Tensor('float32', new Float32Array([0]), []) },
    opsets: { '': 18 },
  });
  for (const ep of BACKENDS) {
    const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
    for (const values of [[1, -2, 3, 0.5], [-1, -2, 3, -0.5]]) {
      const feeds = { x: new Tensor('float32', new Float32Array(values), [4]) };
      const want = await ortRun(bytes, feeds);
      const got = await s.run(feeds);
      assert.deepEqual(Array.from(got.y!.data as Float32Array), Array.from(want.y!.data as Float32Array), `${ep} ${values.join(',')}`);
    }
    await s.release();
  }
});

test('branches returning outer values and initializers; a condition with more than one element is INVALID_GRAPH; an unsupported op inside a branch is named at load', { timeout: 60_000 }, async () => {
  const branch = (out: string): WriterGraph => ({ nodes: [{ opType: 'Identity', inputs: ['x'], outputs: [out] }], inputs: [], outputs: [{ name: out, dtype: 'float32' }] });
  const twoConds = encodeOnnxModel({
    nodes: [{ opType: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: { graph: branch('a') }, else_branch: { graph: branch('b') } } }],
    inputs: [{ name: 'c', dtype: 'bool', dims: [2] }, { name: 'x', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
  });
  const s = await InferenceSession.create(twoConds, { executionProviders: ['js'] });
  await assert.rejects(s.run({ c: new Tensor('bool', new Uint8Array([1, 0]), [2]), x: new Tensor('float32', new Float32Array([1, 2]), [2]) }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_GRAPH' && /one element/.test(e.message));
  await s.release();

  // ONNX allows a branch to return an outer value or its own initializer directly (onnxruntime refuses
  // the first): both come out as the values themselves.
  const passThrough = encodeOnnxModel({
    nodes: [{ opType: 'If', inputs: ['c'], outputs: ['y', 'k'], attrs: {
      then_branch: { graph: { nodes: [], inputs: [], outputs: [{ name: 'x', dtype: 'float32' }, { name: 'init', dtype: 'float32' }], initializers: { init: new Tensor('float32', new Float32Array([7, 8]), [2]) } } },
      else_branch: { graph: { nodes: [{ opType: 'Neg', inputs: ['x'], outputs: ['nx'] }], inputs: [], outputs: [{ name: 'nx', dtype: 'float32' }, { name: 'nx', dtype: 'float32' }] } },
    } }],
    inputs: [{ name: 'c', dtype: 'bool', dims: [1] }, { name: 'x', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'k', dtype: 'float32' }],
  });
  for (const ep of BACKENDS) {
    const p = await InferenceSession.create(passThrough, { executionProviders: [ep] });
    const x = new Tensor('float32', new Float32Array([1.5, -2]), [2]);
    const a = await p.run({ c: new Tensor('bool', new Uint8Array([1]), [1]), x });
    assert.deepEqual([Array.from(a.y!.data as Float32Array), Array.from(a.k!.data as Float32Array)], [[1.5, -2], [7, 8]], `${ep} then`);
    const b = await p.run({ c: new Tensor('bool', new Uint8Array([0]), [1]), x });
    assert.deepEqual([Array.from(b.y!.data as Float32Array), Array.from(b.k!.data as Float32Array)], [[-1.5, 2], [-1.5, 2]], `${ep} else: one value as two outputs`);
    await p.release();
  }

  const unsupported: WriterGraph = { nodes: [{ opType: 'NoSuchOp', inputs: ['x'], outputs: ['z'] }], inputs: [], outputs: [{ name: 'z', dtype: 'float32' }] };
  const bad = encodeOnnxModel({
    nodes: [{ opType: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: { graph: unsupported }, else_branch: { graph: branch('b') } } }],
    inputs: [{ name: 'c', dtype: 'bool', dims: [1] }, { name: 'x', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
  });
  await assert.rejects(InferenceSession.create(bad, { executionProviders: ['js'] }), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_OPS' && /NoSuchOp/.test(e.message));
});
