// com.microsoft MatMulNBits. No ONNX conformance data exists, so: (1) the CPU reference is checked
// against a float64 matmul with B dequantized here, independently; (2) WebGPU vs the CPU reference.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { toNumbers } from '../../kernels/common/values.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

interface Config {
  readonly name: string;
  readonly aDims: number[];
  readonly N: number;
  readonly bits: 2 | 4 | 8;
  readonly blockSize: number;
  readonly zp?: 'packed' | 'float';
  readonly bias?: boolean;
  readonly gIdx?: boolean;
  /** B fed at run time instead of a (packed-on-GPU) constant */
  readonly fedB?: boolean;
  readonly float16?: boolean;
  readonly tolerance?: { rtol: number; atol: number };
}

const bytes = (n: number): number[] => Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
const floats = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + rng.uniform() * (hi - lo));

/** Inputs of a MatMulNBits node: A random and fed; B, scales, zero points, g_idx, bias constants. */
function nbitsInputs(c: Config): InputSpec[] {
  const K = c.aDims[c.aDims.length - 1]!;
  const nBlocks = Math.ceil(K / c.blockSize);
  const blob = (c.blockSize * c.bits) / 8;
  const ft = c.float16 ? 'float16' : 'float32';
  const B: InputSpec = c.fedB ? { dtype: 'uint8', dims: [c.N, nBlocks, blob], range: [0, 256] } : { dtype: 'uint8', dims: [c.N, nBlocks, blob], values: bytes(c.N * nBlocks * blob) };
  const inputs: InputSpec[] = [
    { dtype: ft, dims: c.aDims, range: [-1, 1] },
    B,
    { dtype: ft, dims: [c.N * nBlocks], values: floats(c.N * nBlocks, 0.005, 0.05) },
  ];
  if (c.zp === 'packed') inputs.push({ dtype: 'uint8', dims: [c.N * Math.ceil((nBlocks * c.bits) / 8)], values: bytes(c.N * Math.ceil((nBlocks * c.bits) / 8)) });
  else if (c.zp === 'float') inputs.push({ dtype: ft, dims: [c.N * nBlocks], values: floats(c.N * nBlocks, 0, 2 ** c.bits) });
  else if (c.gIdx || c.bias) inputs.push({ dtype: 'uint8', dims: [0], omit: true });
  if (c.gIdx) inputs.push({ dtype: 'int32', dims: [K], values: Array.from({ length: K }, () => Math.floor(rng.uniform() * nBlocks)) });
  else if (c.bias) inputs.push({ dtype: 'int32', dims: [0], omit: true });
  if (c.bias) inputs.push({ dtype: ft, dims: [c.N], values: floats(c.N, -1, 1) });
  return inputs;
}

const caseOf = (c: Config): OpCase => ({
  name: c.name,
  op: 'MatMulNBits',
  domain: 'com.microsoft',
  attrs: { K: c.aDims[c.aDims.length - 1]!, N: c.N, bits: c.bits, block_size: c.blockSize },
  inputs: nbitsInputs(c),
  tolerance: c.tolerance ?? { rtol: 1e-4, atol: 1e-5 },
  // g_idx (deprecated: a block index per k) is lowered on the CPU only
  gpu: !c.gIdx,
  // the wasm kernel (kernels/matmul-nbits/wasm.ts) must run every 4/8-bit case with constant weights
  wasmKernel: c.bits !== 2 && !c.gIdx && !c.fedB && !c.float16,
});

const configs: Config[] = [
  { name: '4-bit, decode row (M=1), default zero point', aDims: [1, 64], N: 16, bits: 4, blockSize: 32 },
  { name: '4-bit, packed zero points, M=5, N % 4 != 0', aDims: [5, 96], N: 13, bits: 4, blockSize: 32, zp: 'packed' },
  { name: '4-bit, block 16, partial last block, float zero points, bias', aDims: [3, 40], N: 12, bits: 4, blockSize: 16, zp: 'float', bias: true },
  { name: '8-bit, block 64, packed zero points, rank-3 A', aDims: [2, 3, 256], N: 24, bits: 8, blockSize: 64, zp: 'packed' },
  { name: '8-bit, partial block, bias', aDims: [2, 100], N: 9, bits: 8, blockSize: 32, bias: true },
  { name: '2-bit, packed zero points', aDims: [4, 96], N: 8, bits: 2, blockSize: 32, zp: 'packed' },
  { name: '4-bit, odd block count with packed zero points', aDims: [2, 160], N: 7, bits: 4, blockSize: 32, zp: 'packed' },
  { name: '4-bit, 1-D A', aDims: [128], N: 20, bits: 4, blockSize: 64 },
  { name: '4-bit, fed (unpacked) B', aDims: [3, 64], N: 10, bits: 4, blockSize: 32, fedB: true, zp: 'packed' },
  { name: '4-bit, float16 A and scales', aDims: [2, 64], N: 8, bits: 4, blockSize: 32, zp: 'float', float16: true, bias: true, tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: '4-bit, K=4096 block 128 (split-K reduction)', aDims: [1, 4096], N: 64, bits: 4, blockSize: 128, zp: 'packed', tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: '4-bit, prefill M=33, K=1024', aDims: [33, 1024], N: 40, bits: 4, blockSize: 32, tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: '4-bit, block 16, M=4, packed zero points', aDims: [4, 128], N: 11, bits: 4, blockSize: 16, zp: 'packed' },
  { name: '8-bit, block 16, float zero points, bias', aDims: [3, 48], N: 5, bits: 8, blockSize: 16, zp: 'float', bias: true },
  // the wasm kernel runs 4 columns at a time, then single ones; float zero points take its f32 path
  { name: '4-bit, block 32, float zero points, N=10, partial last block', aDims: [2, 80], N: 10, bits: 4, blockSize: 32, zp: 'float' },
  { name: '8-bit, block 32, default zero point, M=3, N=6', aDims: [3, 64], N: 6, bits: 8, blockSize: 32 },
  // from 4 rows of A the wasm kernel dequantizes 256-row chunks of W into the f32 GEMM's panels
  { name: '4-bit prefill M=7, block 16, float zero points, bias, K=300 (two chunks, partial last block), N=13', aDims: [7, 300], N: 13, bits: 4, blockSize: 16, zp: 'float', bias: true, tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: '8-bit prefill M=10 (rank-3 A), block 64, packed zero points, bias, K=520 (partial last block), N=17', aDims: [2, 5, 520], N: 17, bits: 8, blockSize: 64, zp: 'packed', bias: true, tolerance: { rtol: 1e-3, atol: 1e-4 } },
  { name: 'g_idx (CPU)', aDims: [3, 64], N: 6, bits: 4, blockSize: 16, gIdx: true, zp: 'packed' },
];

runOpCases('matmul-nbits', configs.map(caseOf));

// GPUs split each tile's K blocks over up to 64 invocations and reduce in shared memory; software
// adapters do not, so force the split here to cover that path too.
const split = devKnobs;
describe('matmul-nbits with split K', () => {
  before(() => void (split.KILN_NBITS_SPLIT = 64));
  after(() => void delete split.KILN_NBITS_SPLIT);
  runOpCases('matmul-nbits-split', configs.filter((c) => !c.gIdx).map(caseOf));
});

// Small weights run on wasm as the float GEMM over a dequantized copy (kernels/matmul-nbits/wasm.ts
// F32_COPY_BYTES), which every case above is; here the same cases with W kept packed, the per-row
// and prefill kernels that larger weights take.
const copyKnob = devKnobs;
describe('matmul-nbits with packed weights on wasm', () => {
  before(() => void (copyKnob.KILN_NBITS_F32_BYTES = 0));
  after(() => void delete copyKnob.KILN_NBITS_F32_BYTES);
  runOpCases('matmul-nbits-packed', configs.filter((c) => !c.gIdx).map(caseOf));
});

// ---------------------------------------------------------------------------------------------
// The CPU reference against an independent float64 computation from the raw bytes.
// ---------------------------------------------------------------------------------------------

/** Unpacks a byte stream into `bits`-wide codes, low bits first. */
function unpackCodes(src: Uint8Array, bits: number): number[] {
  const out: number[] = [];
  for (const byte of src) for (let sh = 0; sh < 8; sh += bits) out.push((byte >> sh) & ((1 << bits) - 1));
  return out;
}

function referenceY(c: Config, t: readonly (AnyTensor | undefined)[]): Float64Array {
  const [a, b, scales, zp, gIdx, bias] = t;
  const K = c.aDims[c.aDims.length - 1]!;
  const M = a!.size / K;
  const nBlocks = Math.ceil(K / c.blockSize);
  const s = toNumbers(scales!);
  const av = toNumbers(a!);
  const codesPerRow = nBlocks * c.blockSize;
  const codes = unpackCodes(b!.data as Uint8Array, c.bits);
  const zpRow = zp && zp.type === 'uint8' ? unpackCodes(zp.data as Uint8Array, c.bits) : undefined;
  const zpPerRow = Math.ceil((nBlocks * c.bits) / 8) * (8 / c.bits);
  const wf = new Float64Array(c.N * K);
  for (let n = 0; n < c.N; n++) {
    for (let k = 0; k < K; k++) {
      const blk = gIdx ? (gIdx.data as Int32Array)[k]! : Math.floor(k / c.blockSize);
      const z = !zp ? 2 ** (c.bits - 1) : zpRow ? zpRow[n * zpPerRow + blk]! : toNumbers(zp)[n * nBlocks + blk]!;
      wf[n * K + k] = (codes[n * codesPerRow + k]! - z) * s[n * nBlocks + blk]!;
    }
  }
  const y = new Float64Array(M * c.N);
  const bv = bias ? toNumbers(bias) : undefined;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < c.N; n++) {
      let acc = bv ? bv[n]! : 0;
      for (let k = 0; k < K; k++) acc += av[m * K + k]! * wf[n * K + k]!;
      y[m * c.N + n] = acc;
    }
  }
  return y;
}

test('MatMulNBits CPU reference matches a float64 matmul on hand-dequantized weights', async () => {
  for (const c of configs.filter((x) => !x.float16)) {
    const specs = nbitsInputs({ ...c, fedB: false });
    const tensors: (AnyTensor | undefined)[] = specs.map((s) => {
      if (s.omit) return undefined;
      const vals = s.values ?? floats(s.dims.reduce((p, q) => p * q, 1), -1, 1);
      return s.dtype === 'float32' ? new Tensor('float32', Float32Array.from(vals), s.dims) : s.dtype === 'int32' ? new Tensor('int32', Int32Array.from(vals), s.dims) : new Tensor('uint8', Uint8Array.from(vals), s.dims);
    });
    const names = tensors.map((t, i) => (t ? `in${i}` : ''));
    const initializers: Record<string, AnyTensor> = {};
    tensors.forEach((t, i) => i > 0 && t && (initializers[`in${i}`] = t));
    const model = encodeOnnxModel({
      nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: names, outputs: ['y'], attrs: caseOf(c).attrs ?? {} }],
      inputs: [{ name: 'in0', dtype: 'float32', dims: c.aDims }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers,
      opsets: { '': 17, 'com.microsoft': 1 },
    });
    const session = await InferenceSession.create(model, { executionProviders: ['js'] });
    try {
      const got = toNumbers((await session.run({ in0: tensors[0]! })).y!);
      const want = referenceY(c, tensors);
      assert.equal(got.length, want.length, c.name);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-4 + 1e-4 * Math.abs(want[i]!), `${c.name}: element ${i}: ${got[i]} vs ${want[i]}`);
      }
    } finally {
      await session.release();
    }
  }
});

const bad = (name: string, attrs: Record<string, number>, inputs: InputSpec[], error: RegExp) => ({ name, op: 'MatMulNBits', domain: 'com.microsoft', attrs, inputs, error });
const a = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const u8 = (dims: number[]): InputSpec => ({ dtype: 'uint8', dims, values: bytes(dims.reduce((p, q) => p * q, 1)) });
const sc = (n: number): InputSpec => ({ dtype: 'float32', dims: [n], values: floats(n, 0.01, 0.02) });
runBadInputCases('matmul-nbits', [
  bad('B of the wrong shape', { K: 32, N: 4, bits: 4, block_size: 32 }, [a([1, 32]), u8([4, 1, 8]), sc(4)], /B has shape \[4, 1, 8\], expected \[4, 1, 16\]/),
  bad('A last dim is not K', { K: 32, N: 4, bits: 4, block_size: 32 }, [a([1, 16]), u8([4, 1, 16]), sc(4)], /expected its last dim to be K=32/),
  bad('bits=3', { K: 32, N: 4, bits: 3, block_size: 32 }, [a([1, 32]), u8([4, 1, 12]), sc(4)], /bits=3 is not supported/),
  bad('block_size not a power of 2', { K: 48, N: 4, bits: 4, block_size: 24 }, [a([1, 48]), u8([4, 2, 12]), sc(8)], /block_size must be a power of 2 >= 16, got 24/),
  bad('scales of the wrong size', { K: 64, N: 4, bits: 4, block_size: 32 }, [a([1, 64]), u8([4, 2, 16]), sc(4)], /expected 8 values/),
]);

// ---------------------------------------------------------------------------------------------
// The wasm kernel against onnxruntime-web's wasm MatMulNBits (1 thread) on the same bytes.
// ---------------------------------------------------------------------------------------------

test('MatMulNBits on the wasm backend matches onnxruntime-web (4-bit and 8-bit, packed zero points, partial block)', async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  for (const c of [
    { aDims: [3, 256], N: 24, bits: 4, blockSize: 32 },
    { aDims: [2, 200], N: 9, bits: 4, blockSize: 64 },
    { aDims: [4, 128], N: 16, bits: 8, blockSize: 32 },
  ] as const) {
    const config: Config = { name: 'vs ort', aDims: [...c.aDims], N: c.N, bits: c.bits, blockSize: c.blockSize, zp: 'packed' };
    const specs = nbitsInputs(config);
    const tensors = specs.map((s) => new Tensor(s.dtype === 'float32' ? 'float32' : 'uint8', s.dtype === 'float32' ? Float32Array.from(s.values ?? floats(s.dims.reduce((p, q) => p * q, 1), -1, 1)) : Uint8Array.from(s.values!), s.dims) as AnyTensor);
    const model = encodeOnnxModel({
      nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: ['a', 'b', 's', 'z'], outputs: ['y'], attrs: caseOf(config).attrs ?? {} }],
      inputs: [{ name: 'a', dtype: 'float32', dims: config.aDims }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { b: tensors[1]!, s: tensors[2]!, z: tensors[3]! },
      opsets: { '': 17, 'com.microsoft': 1 },
    });
    const o = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const want = (await o.run({ a: new ort.Tensor('float32', tensors[0]!.data as Float32Array, config.aDims) })).y!.data as Float32Array;
    await o.release();
    // the dequantized float copy (these weights are small) and the packed kernels
    for (const copyBytes of [undefined, 0]) {
      if (copyBytes === undefined) delete copyKnob.KILN_NBITS_F32_BYTES;
      else copyKnob.KILN_NBITS_F32_BYTES = copyBytes;
      const k = await InferenceSession.create(model, { executionProviders: ['wasm'] });
      delete copyKnob.KILN_NBITS_F32_BYTES;
      const got = (await k.run({ a: tensors[0]! })).y!.data as Float32Array;
      assert.equal(k.lastPlacement?.steps[0]?.implementation, 'wasm');
      await k.release();
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${c.bits}-bit K=${c.aDims[1]}, ${copyBytes === 0 ? 'packed' : 'float copy'}: element ${i}: ${got[i]} vs onnxruntime ${want[i]}`);
    }
  }
});
