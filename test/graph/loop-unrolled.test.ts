// Loop, unrolled while planning (runtime/plan/expand-loop.ts): carried values, scan outputs stacked
// on a new axis, outer values read by the body, trip counts fed at run time and conditions computed
// by the body, each backend against onnxruntime-web on seeded inputs; limits fail with typed errors.
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
const rng = testRng(import.meta.url, 'loop-unrolled');
console.log(`Loop tests: KILN_TEST_SEED=${rng.seed}`);
const D = 4;
const w = new Tensor('float32', rng.floats(D * D, -0.5, 0.5), [D, D]);
const int64 = (v: number, dims: number[] = []): Tensor<'int64'> => new Tensor('int64', new BigInt64Array([BigInt(v)]), dims);
const BACKENDS = ['js', 'wasm', 'webgpu'] as const;

/**
 * h_{i+1} = tanh(h_i @ w + i); scan output: h_{i+1}; the body reads w from the outer graph. The loop
 * stops after `trip` iterations or once the body's condition (iteration < limit - 1, from a body
 * constant) turns false: `limit` = 3 stops early when trip > 3.
 */
function rnnLoop(limit: number): Uint8Array {
  const body: WriterGraph = {
    nodes: [
      { opType: 'MatMul', inputs: ['h_in', 'w'], outputs: ['hw'] },
      { opType: 'Cast', inputs: ['i'], outputs: ['i_f'], attrs: { to: 1 } },
      { opType: 'Add', inputs: ['hw', 'i_f'], outputs: ['pre'] },
      { opType: 'Tanh', inputs: ['pre'], outputs: ['h_out'] },
      { opType: 'Identity', inputs: ['h_out'], outputs: ['scan_h'] },
      { opType: 'Less', inputs: ['i', 'last'], outputs: ['cond_out'] },
    ],
    inputs: [{ name: 'i', dtype: 'int64', dims: [] }, { name: 'cond_in', dtype: 'bool', dims: [] }, { name: 'h_in', dtype: 'float32', dims: [1, D] }],
    outputs: [{ name: 'cond_out', dtype: 'bool', dims: [] }, { name: 'h_out', dtype: 'float32', dims: [1, D] }, { name: 'scan_h', dtype: 'float32', dims: [1, D] }],
    initializers: { last: int64(limit - 1) },
  };
  return encodeOnnxModel({
    nodes: [{ opType: 'Loop', inputs: ['trip', 'cond', 'h0'], outputs: ['h_final', 'hs'], attrs: { body: { graph: body } } }],
    inputs: [{ name: 'trip', dtype: 'int64', dims: [] }, { name: 'cond', dtype: 'bool', dims: [] }, { name: 'h0', dtype: 'float32', dims: [1, D] }],
    outputs: [{ name: 'h_final', dtype: 'float32' }, { name: 'hs', dtype: 'float32' }],
    initializers: { w },
    opsets: { '': 17 },
  });
}

function toOrt(t: AnyTensor): ort.Tensor {
  if (t.type === 'bool') return new ort.Tensor('bool', t.data as Uint8Array, [...t.dims]);
  if (t.type === 'int64') return new ort.Tensor('int64', t.data as BigInt64Array, [...t.dims]);
  return new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
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

test(`Loop with carried and scan outputs, trip count fed at run time, early stop by the body's condition: every backend matches onnxruntime-web (seed ${rng.seed})`, { timeout: 120_000 }, async () => {
  const h0 = new Tensor('float32', rng.floats(D, -1, 1), [1, D]);
  for (const limit of [3, 10]) {
    const bytes = rnnLoop(limit);
    for (const ep of BACKENDS) {
      const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
      for (const trip of [1, 5, 2]) {
        const feeds = { trip: int64(trip), cond: new Tensor('bool', new Uint8Array([1]), []), h0 };
        const want = await ortRun(bytes, feeds);
        const got = await s.run(feeds);
        assert.deepEqual(got.hs!.dims, want.hs!.dims, `${ep} limit ${limit} trip ${trip}: scan output shape`);
        for (const name of ['h_final', 'hs']) {
          const diff = compareTensors(got[name]!, want[name]!, { rtol: 1e-5, atol: 1e-6 });
          assert.equal(diff, undefined, `${ep} limit ${limit} trip ${trip} ${name}: ${diff}`);
        }
      }
      await s.release();
    }
  }
});

test('a Loop whose initial condition is false runs no iteration: carried values pass through; scan outputs of zero iterations are refused by name', async () => {
  const body: WriterGraph = {
    nodes: [{ opType: 'Neg', inputs: ['v_in'], outputs: ['v_out'] }, { opType: 'Identity', inputs: ['cond_in'], outputs: ['cond_out'] }],
    inputs: [{ name: 'i', dtype: 'int64', dims: [] }, { name: 'cond_in', dtype: 'bool', dims: [] }, { name: 'v_in', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'cond_out', dtype: 'bool', dims: [] }, { name: 'v_out', dtype: 'float32', dims: [2] }],
  };
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'Loop', inputs: ['', 'cond', 'v'], outputs: ['v_final'], attrs: { body: { graph: body } } }],
    inputs: [{ name: 'cond', dtype: 'bool', dims: [] }, { name: 'v', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'v_final', dtype: 'float32' }],
  });
  const s = await InferenceSession.create(bytes, { executionProviders: ['js'] });
  const v = new Tensor('float32', new Float32Array([1, -2]), [2]);
  assert.deepEqual(Array.from((await s.run({ cond: new Tensor('bool', new Uint8Array([0]), []), v })).v_final!.data as Float32Array), [1, -2]);
  // cond stays true and there is no trip count: the loop never ends, which unrolling must refuse, not hang on.
  await assert.rejects(s.run({ cond: new Tensor('bool', new Uint8Array([1]), []), v }), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_FEATURE' && /more than \d+ iterations/.test(e.message));
  await s.release();

  const scanBody: WriterGraph = { ...body, nodes: [...body.nodes, { opType: 'Identity', inputs: ['v_out'], outputs: ['scan'] }], outputs: [...body.outputs, { name: 'scan', dtype: 'float32', dims: [2] }] };
  const withScan = encodeOnnxModel({
    nodes: [{ opType: 'Loop', inputs: ['trip', '', 'v'], outputs: ['v_final', 'scans'], attrs: { body: { graph: scanBody } } }],
    inputs: [{ name: 'trip', dtype: 'int64', dims: [] }, { name: 'v', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'v_final', dtype: 'float32' }, { name: 'scans', dtype: 'float32' }],
  });
  const t = await InferenceSession.create(withScan, { executionProviders: ['js'] });
  const three = await t.run({ trip: int64(3), v });
  assert.deepEqual(three.scans!.dims, [3, 2]);
  assert.deepEqual(Array.from(three.scans!.data as Float32Array), [-1, 2, 1, -2, -1, 2]);
  await assert.rejects(t.run({ trip: int64(0), v }), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_FEATURE' && /ran no iteration/.test(e.message));
  await t.release();
});
