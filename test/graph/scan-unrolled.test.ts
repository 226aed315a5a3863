// Scan, unrolled while planning (runtime/plan/expand-scan.ts): state variables, scan inputs on
// different axes and in reverse, scan outputs on chosen axes and in reverse, an outer value read by the
// body, opset 8's batched form; each backend against a plain loop written here and against
// onnxruntime-web on seeded inputs; limits and malformed scans fail with typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { KilnError } from '../../core/errors.ts';
import { encodeOnnxModel, type WriterGraph } from '../../runtime/format/onnx/onnx-writer.ts';
import { MAX_UNROLLED_ITERATIONS } from '../../runtime/plan/expand-loop.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;
const rng = testRng(import.meta.url, 'scan-unrolled');
console.log(`Scan tests: KILN_TEST_SEED=${rng.seed}`);
const D = 4;
const T = 5;
const BACKENDS = ['js', 'wasm', 'webgpu'] as const;
const f32 = (data: ArrayLike<number>, dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from(data), dims);

/**
 * States h [D] and acc [D]; scan inputs x [D, T] scanned on axis 1 and y [T, D] scanned on axis 0 in
 * reverse; h' = tanh(h @ w + x_t + y_t) with w read from the outer graph, acc' = acc + h'; scan outputs
 * h' stacked on axis 1 ([D, T]) and h' * y_t stacked on axis -2 in reverse ([T, D]).
 */
function rnnScan(w: Tensor<'float32'>): Uint8Array {
  const vec = (name: string): { name: string; dtype: 'float32'; dims: number[] } => ({ name, dtype: 'float32', dims: [D] });
  const body: WriterGraph = {
    nodes: [
      { opType: 'MatMul', inputs: ['h_in', 'w'], outputs: ['hw'] },
      { opType: 'Add', inputs: ['hw', 'x_t'], outputs: ['hx'] },
      { opType: 'Add', inputs: ['hx', 'y_t'], outputs: ['pre'] },
      { opType: 'Tanh', inputs: ['pre'], outputs: ['h_out'] },
      { opType: 'Add', inputs: ['acc_in', 'h_out'], outputs: ['acc_out'] },
      { opType: 'Identity', inputs: ['h_out'], outputs: ['s_h'] },
      { opType: 'Mul', inputs: ['h_out', 'y_t'], outputs: ['s_hy'] },
    ],
    inputs: [vec('h_in'), vec('acc_in'), vec('x_t'), vec('y_t')],
    outputs: [vec('h_out'), vec('acc_out'), vec('s_h'), vec('s_hy')],
  };
  return encodeOnnxModel({
    nodes: [{
      opType: 'Scan',
      inputs: ['h0', 'acc0', 'x', 'y'],
      outputs: ['h_final', 'acc_final', 'hs', 'hys'],
      attrs: { body: { graph: body }, num_scan_inputs: 2, scan_input_axes: [1, 0], scan_input_directions: [0, 1], scan_output_axes: [1, -2], scan_output_directions: [0, 1] },
    }],
    inputs: [{ name: 'h0', dtype: 'float32', dims: [D] }, { name: 'acc0', dtype: 'float32', dims: [D] }, { name: 'x', dtype: 'float32', dims: [D, T] }, { name: 'y', dtype: 'float32', dims: [T, D] }],
    outputs: ['h_final', 'acc_final', 'hs', 'hys'].map((name) => ({ name, dtype: 'float32' as const })),
    initializers: { w },
    opsets: { '': 17 },
  });
}

/** The same recurrence as plain loops: the oracle, written from the ONNX Scan definition. */
function rnnScanByHand(w: Float32Array, h0: Float32Array, acc0: Float32Array, x: Float32Array, y: Float32Array): Record<string, Tensor<'float32'>> {
  let h = Float64Array.from(h0);
  const acc = Float64Array.from(acc0);
  const hs = new Float32Array(D * T);
  const hys = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const yRow = T - 1 - t; // y is scanned in reverse
    const next = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      let s = x[j * T + t]! + y[yRow * D + j]!;
      for (let i = 0; i < D; i++) s += h[i]! * w[i * D + j]!;
      next[j] = Math.tanh(s);
    }
    h = next;
    for (let j = 0; j < D; j++) {
      acc[j]! += h[j]!;
      hs[j * T + t] = h[j]!;
      hys[(T - 1 - t) * D + j] = h[j]! * y[yRow * D + j]!; // stacked in reverse
    }
  }
  return { h_final: f32(Float32Array.from(h), [D]), acc_final: f32(Float32Array.from(acc), [D]), hs: f32(hs, [D, T]), hys: f32(hys, [T, D]) };
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<Record<string, AnyTensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])])));
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, f32(t.data as Float32Array, [...t.dims])]));
  } finally {
    await s.release();
  }
}

test(`Scan with two states, scan inputs on axes 1 and 0 (one reversed), outputs on axes 1 and -2 (one reversed): every backend matches a plain loop and onnxruntime-web (seed ${rng.seed})`, { timeout: 120_000 }, async () => {
  const w = f32(rng.floats(D * D, -0.5, 0.5), [D, D]);
  const bytes = rnnScan(w);
  for (let round = 0; round < 2; round++) {
    const feeds = { h0: f32(rng.floats(D, -1, 1), [D]), acc0: f32(rng.floats(D, -1, 1), [D]), x: f32(rng.floats(D * T, -1, 1), [D, T]), y: f32(rng.floats(T * D, -1, 1), [T, D]) };
    const byHand = rnnScanByHand(w.data, feeds.h0.data, feeds.acc0.data, feeds.x.data, feeds.y.data);
    const fromOrt = await ortRun(bytes, feeds);
    for (const name of Object.keys(byHand)) {
      const diff = compareTensors(fromOrt[name]!, byHand[name]!, { rtol: 1e-5, atol: 1e-6 });
      assert.equal(diff, undefined, `onnxruntime-web vs the plain loop, ${name}: ${diff}`);
    }
    for (const ep of BACKENDS) {
      const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
      const got = await s.run(feeds);
      for (const name of Object.keys(byHand)) {
        assert.deepEqual(got[name]!.dims, byHand[name]!.dims, `${ep} ${name}: shape`);
        for (const [what, want] of [['plain loop', byHand[name]!], ['onnxruntime-web', fromOrt[name]!]] as const) {
          const diff = compareTensors(got[name]!, want, { rtol: 1e-5, atol: 1e-6 });
          assert.equal(diff, undefined, `${ep} vs ${what}, ${name}: ${diff}`);
        }
      }
      // the unrolled body's ops run on the session's backend, not on the CPU beside it
      const matmuls = (s.lastPlacement?.steps ?? []).filter((p) => p.opType === 'MatMul');
      assert.equal(matmuls.length, T, `${ep}: one MatMul per scanned element`);
      const expected = { js: 'js', wasm: 'wasm', webgpu: 'webgpu' }[ep];
      for (const p of matmuls) assert.equal(p.implementation, expected, `${ep}: MatMul '${p.node}' ran as ${p.implementation}`);
      await s.release();
    }
  }
});

/** Opset 8: sum over axis 1 of x [B, L, 2] with a batch axis 0, optional sequence_lens first. */
function batchedSum(withLens: boolean): Uint8Array {
  const body: WriterGraph = {
    nodes: [{ opType: 'Add', inputs: ['sum_in', 'next'], outputs: ['sum_out'] }, { opType: 'Identity', inputs: ['sum_out'], outputs: ['scan_out'] }],
    inputs: [{ name: 'sum_in', dtype: 'float32', dims: [2] }, { name: 'next', dtype: 'float32', dims: [2] }],
    outputs: [{ name: 'sum_out', dtype: 'float32', dims: [2] }, { name: 'scan_out', dtype: 'float32', dims: [2] }],
  };
  return encodeOnnxModel({
    nodes: [{ opType: 'Scan', inputs: [withLens ? 'lens' : '', 'initial', 'x'], outputs: ['y', 'z'], attrs: { body: { graph: body }, num_scan_inputs: 1, directions: [1] } }],
    inputs: [...(withLens ? [{ name: 'lens', dtype: 'int32' as const, dims: [3] }] : []), { name: 'initial', dtype: 'float32', dims: [3, 2] }, { name: 'x', dtype: 'float32', dims: [3, 4, 2] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'z', dtype: 'float32' }],
    opsets: { '': 8 },
  });
}

test(`opset-8 Scan (batch axis, reversed direction) on every backend matches onnxruntime-web; sequence_lens shorter than the axis are refused by name (seed ${rng.seed})`, { timeout: 60_000 }, async () => {
  const feeds = { initial: f32(rng.floats(6, -1, 1), [3, 2]), x: f32(rng.floats(24, -1, 1), [3, 4, 2]) };
  const bytes = batchedSum(false);
  const want = await ortRun(bytes, feeds);
  assert.deepEqual(want.z!.dims, [3, 4, 2]);
  for (const ep of BACKENDS) {
    const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
    const got = await s.run(feeds);
    for (const name of ['y', 'z']) assert.equal(compareTensors(got[name]!, want[name]!, { rtol: 1e-6, atol: 1e-6 }), undefined, `${ep} ${name}`);
    await s.release();
  }
  const s = await InferenceSession.create(batchedSum(true), { executionProviders: ['js'] });
  const full = await s.run({ ...feeds, lens: new Tensor('int32', new Int32Array([4, 4, 4]), [3]) });
  assert.equal(compareTensors(full.z!, want.z!, { rtol: 1e-6, atol: 1e-6 }), undefined, 'sequence_lens equal to the axis');
  await assert.rejects(s.run({ ...feeds, lens: new Tensor('int32', new Int32Array([4, 2, 4]), [3]) }), (e: unknown) => e instanceof KilnError && e.code === 'UNSUPPORTED_FEATURE' && /sequence_lens \[4, 2, 4\]/.test(e.message));
  await s.release();
});

/** A cumulative sum over a [length] input, with its scan output or without. */
function cumSum(length: number, scanOutput: boolean, attrs: Record<string, number[]> = {}, y = false): Uint8Array {
  const body: WriterGraph = {
    nodes: [{ opType: 'Add', inputs: ['s_in', 'v'], outputs: ['s_out'] }, ...(y ? [{ opType: 'Add', inputs: ['s_out', 'u'], outputs: ['s_u'] }] : []), { opType: 'Identity', inputs: ['s_out'], outputs: ['each'] }],
    inputs: [{ name: 's_in', dtype: 'float32', dims: [] }, { name: 'v', dtype: 'float32', dims: [] }, ...(y ? [{ name: 'u', dtype: 'float32' as const, dims: [] }] : [])],
    outputs: [{ name: y ? 's_u' : 's_out', dtype: 'float32', dims: [] }, ...(scanOutput ? [{ name: 'each', dtype: 'float32' as const, dims: [] }] : [])],
  };
  return encodeOnnxModel({
    nodes: [{ opType: 'Scan', inputs: ['s0', 'x', ...(y ? ['y'] : [])], outputs: ['total', ...(scanOutput ? ['each_out'] : [])], attrs: { body: { graph: body }, num_scan_inputs: y ? 2 : 1, ...attrs } }],
    inputs: [{ name: 's0', dtype: 'float32', dims: [] }, { name: 'x', dtype: 'float32', dims: [length] }, ...(y ? [{ name: 'y', dtype: 'float32' as const, dims: [length + 1] }] : [])],
    outputs: [{ name: 'total', dtype: 'float32' }, ...(scanOutput ? [{ name: 'each_out', dtype: 'float32' as const }] : [])],
    opsets: { '': 17 },
  });
}

async function planError(bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<unknown> {
  try {
    const s = await InferenceSession.create(bytes, { executionProviders: ['js'] });
    try {
      await s.run(feeds);
    } finally {
      await s.release();
    }
  } catch (e) {
    return e;
  }
  return undefined;
}

test('an empty scanned axis passes the states through; its scan outputs, too many iterations, unequal lengths and bad axes fail with typed errors', async () => {
  const s0 = new Tensor('float32', new Float32Array([1.5]), []);
  const empty = await InferenceSession.create(cumSum(0, false), { executionProviders: ['js'] });
  assert.deepEqual(Array.from((await empty.run({ s0, x: f32(new Float32Array(0), [0]) })).total!.data as Float32Array), [1.5]);
  await empty.release();

  const isError = (code: string, pattern: RegExp) => (e: unknown): boolean => e instanceof KilnError && e.code === code && pattern.test(e.message);
  const cases: [string, Uint8Array, Record<string, AnyTensor>, string, RegExp][] = [
    ['empty axis with a scan output', cumSum(0, true), { s0, x: f32(new Float32Array(0), [0]) }, 'UNSUPPORTED_FEATURE', /empty axis.*'each_out'/],
    ['past the unrolling limit', cumSum(MAX_UNROLLED_ITERATIONS + 1, false), { s0, x: f32(new Float32Array(MAX_UNROLLED_ITERATIONS + 1), [MAX_UNROLLED_ITERATIONS + 1]) }, 'UNSUPPORTED_FEATURE', new RegExp(`more than ${MAX_UNROLLED_ITERATIONS}`)],
    ['scan inputs of unequal lengths', cumSum(3, false, {}, true), { s0, x: f32(new Float32Array(3), [3]), y: f32(new Float32Array(4), [4]) }, 'INVALID_GRAPH', /different lengths .*\(3, 4\)/],
    ['an input axis out of range', cumSum(3, false, { scan_input_axes: [1] }), { s0, x: f32(new Float32Array(3), [3]) }, 'INVALID_GRAPH', /axis 1 is out of range/],
    ['an output axis out of range', cumSum(3, true, { scan_output_axes: [-3] }), { s0, x: f32(new Float32Array(3), [3]) }, 'INVALID_GRAPH', /axis -3 is out of range/],
    ['directions of the wrong length', cumSum(3, false, { scan_input_directions: [0, 1] }), { s0, x: f32(new Float32Array(3), [3]) }, 'INVALID_GRAPH', /scan_input_directions has 2 entries for 1/],
  ];
  for (const [what, bytes, feeds, code, pattern] of cases) {
    const e = await planError(bytes, feeds);
    assert.ok(isError(code, pattern)(e), `${what}: expected ${code} matching ${pattern}, got ${String(e)}`);
  }
});
