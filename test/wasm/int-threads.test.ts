// The integer GEMM, the depthwise integer conv and MatMulNBits (prefill and decode) on the wasm thread pool
// (kernels/wasm/gemm-s8-parallel.ts, kernels/matmul-nbits/wasm.ts -> parallelRows): 1, 2 and 3
// threads give the same bits, the node ran its wasm kernel, and the 1-thread output matches the op's
// reference (so it is no oracle of itself). Odd M/N/K, K not a multiple of the block size, zero
// points, per-channel scales, saturating outputs; sizes above the pool's threshold (128^3 MACs), both
// GEMM splits (rows: more 4-row tiles than 8-column panels; columns: the other way).
// A module-level test checks that each export really ran split (parallelRowCalls).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { devKnobs } from '../../core/dev-knobs.ts';
import { bytesOf, expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

const rng = testRng(import.meta.url);
const count = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const u8 = (dims: number[], lo = 0, hi = 256): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.from(rng.ints(count(dims), lo, hi)), dims);
const s8 = (dims: number[]): Tensor<'int8'> => new Tensor('int8', Int8Array.from(rng.ints(count(dims), -128, 128)), dims);
const f32 = (dims: number[], lo: number, hi: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(count(dims), lo, hi)), dims);
const i32 = (dims: number[], lo: number, hi: number): Tensor<'int32'> => new Tensor('int32', Int32Array.from(rng.ints(count(dims), lo, hi)), dims);
const EXACT = { rtol: 0, atol: 0 };

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly feeds: Record<string, AnyTensor>;
  readonly tolerance: { rtol: number; atol: number };
}

function oneNode(name: string, node: WriterModel['nodes'][number], feeds: Record<string, AnyTensor>, consts: Record<string, AnyTensor>, outDtype: 'uint8' | 'int8' | 'int32' | 'float32', tolerance = EXACT): Model {
  const bytes = encodeOnnxModel({
    nodes: [{ ...node, outputs: ['y'] }],
    inputs: Object.entries(feeds).map(([n, t]) => ({ name: n, dtype: t.type, dims: t.dims })),
    outputs: [{ name: 'y', dtype: outDtype }],
    initializers: consts,
    opsets: { '': 13, 'com.microsoft': 1 },
  });
  return { name, bytes, feeds, tolerance };
}

/** The raw bytes of a numeric tensor (float outputs compared bit for bit, -0 and NaN payloads included). */
async function sameOnThreads(m: Model): Promise<void> {
  const ref = await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = (await ref.run(m.feeds))['y']!;
  await ref.release();
  let one: AnyTensor | undefined;
  for (const numThreads of [1, 2, 3]) {
    const s = await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const got = (await s.run(m.feeds))['y']!;
      assert.equal(s.lastPlacement?.threads, numThreads);
      assert.deepEqual(s.lastPlacement?.steps.map((st) => st.implementation), ['wasm'], `${m.name}: ran its wasm kernel`);
      if (!one) {
        one = got;
        assert.equal(compareTensors(got, want, m.tolerance), undefined, `${m.name}: 1 thread vs the reference`);
      } else {
        const a = bytesOf(one), b = bytesOf(got);
        assert.ok(a.length === b.length && b.every((v, i) => v === a[i]), `${m.name}: ${numThreads} threads differ from 1`);
      }
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
}

/** QLinearMatMul u8 x s8 with per-column weight scales; y_scale small enough that some outputs saturate. */
function qlinearMatMul(name: string, M: number, K: number, N: number): Model {
  const consts = { as: f32([], 0.02, 0.02), az: u8([], 100, 140), b: s8([K, N]), bs: f32([N], 0.005, 0.02), bz: new Tensor('int8', new Int8Array(N), [N]), ys: f32([], 0.4, 0.4), yz: u8([], 120, 136) };
  return oneNode(name, { opType: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: [] }, { a: u8([M, K]) }, consts, 'uint8');
}

test(`QLinearMatMul on 1, 2, 3 threads: rows split (200x99x130) and columns split (21x203x700), same bytes, = reference (seed ${rng.seed})`, async () => {
  await sameOnThreads(qlinearMatMul('QLinearMatMul rows', 200, 99, 130));
  await sameOnThreads(qlinearMatMul('QLinearMatMul columns', 21, 203, 700));
});

test('MatMulInteger (int32) with a zero point per row of A and per column of B, fed B: 1, 2, 3 threads', async () => {
  const [M, K, N] = [9, 301, 1003];
  const feeds = { a: u8([M, K]), b: u8([K, N]) };
  await sameOnThreads(oneNode('MatMulInteger', { opType: 'MatMulInteger', inputs: ['a', 'b', 'az', 'bz'], outputs: [] }, feeds, { az: u8([M]), bz: u8([N]) }, 'int32'));
});

test('QLinearConv 3x3 (im2col, columns split) and 1x1 (pointwise, rows split), per-channel scales and bias: 1, 2, 3 threads', async () => {
  const conv = (name: string, x: number[], w: number[], attrs: Record<string, number | number[]>): Model => {
    const cout = w[0]!;
    const consts = { xs: f32([], 0.02, 0.02), xz: u8([], 110, 140), w: s8(w), ws: f32([cout], 0.003, 0.01), wz: new Tensor('int8', new Int8Array(cout), [cout]), ys: f32([], 0.3, 0.3), yz: u8([], 120, 136), bias: i32([cout], -5000, 5000) };
    return oneNode(name, { opType: 'QLinearConv', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'bias'], outputs: [], attrs }, { x: u8(x) }, consts, 'uint8');
  };
  await sameOnThreads(conv('QLinearConv 3x3', [1, 17, 31, 29], [33, 17, 3, 3], { pads: [1, 1, 1, 1] }));
  await sameOnThreads(conv('QLinearConv 1x1', [1, 64, 6, 7], [1001, 64, 1, 1], {}));
});

test('QLinearConv depthwise (3x3 stride 1, 5x5 stride 2) and ConvInteger (int32, uint8 weights with zero points): 1, 2, 3 threads', async () => {
  const dw = (name: string, x: number[], k: number, strides: number[]): Model => {
    const c = x[1]!;
    const consts = { xs: f32([], 0.02, 0.02), xz: u8([], 110, 140), w: s8([c, 1, k, k]), ws: f32([c], 0.005, 0.02), wz: new Tensor('int8', new Int8Array(c), [c]), ys: f32([], 0.05, 0.05), yz: u8([], 120, 136), bias: i32([c], -3000, 3000) };
    const half = (k - 1) / 2;
    return oneNode(name, { opType: 'QLinearConv', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'bias'], outputs: [], attrs: { group: c, strides, pads: [half, half, half, half] } }, { x: u8(x) }, consts, 'uint8');
  };
  await sameOnThreads(dw('depthwise 3x3', [2, 47, 41, 37], 3, [1, 1]));
  await sameOnThreads(dw('depthwise 5x5 stride 2', [1, 61, 67, 65], 5, [2, 2]));
  await sameOnThreads(oneNode('ConvInteger', { opType: 'ConvInteger', inputs: ['x', 'w', 'xz', 'wz'], outputs: [] }, { x: u8([1, 23, 25, 24]) }, { w: u8([65, 23, 3, 3]), xz: u8([], 100, 150), wz: u8([65]) }, 'int32'));
});

/** MatMulNBits inputs: B constant; packed (uint8) or float zero points. */
function nbits(name: string, M: number, K: number, N: number, bits: 4 | 8, bs: number, zp: 'packed' | 'float' | 'none', bias: boolean): Model {
  const nBlocks = Math.ceil(K / bs);
  const consts: Record<string, AnyTensor> = { b: u8([N, nBlocks, (bs * bits) / 8]), s: f32([N * nBlocks], 0.005, 0.05) };
  const order = ['a', 'b', 's'];
  if (zp === 'packed') consts['z'] = u8([N * Math.ceil((nBlocks * bits) / 8)]);
  if (zp === 'float') consts['z'] = f32([N * nBlocks], 0, 2 ** bits);
  if (zp !== 'none') order.push('z');
  if (bias) {
    if (zp === 'none') order.push('');
    order.push('', 'bias');
    consts['bias'] = f32([N], -1, 1);
  }
  const node = { opType: 'MatMulNBits', domain: 'com.microsoft', inputs: order, outputs: [], attrs: { K, N, bits, block_size: bs } };
  return oneNode(name, node, { a: f32([M, K], -1, 1) }, consts, 'float32', { rtol: 1e-4, atol: 1e-4 });
}

/** Runs `f` with MatMulNBits' weights kept packed whatever their size (no dequantized float copy: kernels/matmul-nbits/wasm.ts). */
async function packedNBits(f: () => Promise<void>): Promise<void> {
  const knob = devKnobs;
  knob.KILN_NBITS_F32_BYTES = 0;
  try {
    await f();
  } finally {
    delete knob.KILN_NBITS_F32_BYTES;
  }
}

test('MatMulNBits prefill (dequantized panels + f32 GEMM) on 1, 2, 3 threads: 4-bit and 8-bit, partial last block, K past one chunk', () =>
  packedNBits(async () => {
    await sameOnThreads(nbits('nbits 4-bit packed zp, bias', 70, 300, 131, 4, 32, 'packed', true));
    await sameOnThreads(nbits('nbits 8-bit float zp, block 64', 33, 520, 150, 8, 64, 'float', false));
    await sameOnThreads(nbits('nbits 4-bit default zp, block 16', 45, 271, 181, 4, 16, 'none', true));
  }));

test('MatMulNBits on a dequantized float copy of small weights (f32 GEMM) on 1, 2, 3 threads: 4-bit and 8-bit, M = 1 and prefill', async () => {
  await sameOnThreads(nbits('nbits copy M=1 4-bit packed zp, bias', 1, 300, 131, 4, 32, 'packed', true));
  await sameOnThreads(nbits('nbits copy M=40 8-bit float zp, block 64', 40, 520, 150, 8, 64, 'float', false));
});

test('MatMulNBits decode (M = 1..3, per-row kernel, column groups split) on 1, 2, 3 threads: partial last block, N % 4 != 0', () =>
  packedNBits(async () => {
    await sameOnThreads(nbits('nbits decode M=1 4-bit packed zp, bias', 1, 2080, 1031, 4, 32, 'packed', true));
    await sameOnThreads(nbits('nbits decode M=3 8-bit float zp', 3, 1000, 1030, 8, 16, 'float', false));
  }));
