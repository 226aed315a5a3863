// The quantized ops' wasm kernels on the relaxed-SIMD build (test/ops runs SIMD128: Node 20 keeps
// relaxed SIMD behind a flag, turned on here). The 8-bit GEMM is the same code on both builds;
// MatMulNBits accumulates with f32x4.relaxed_madd there (and so does the float GEMM its small
// weights run on), so its sums may round differently (within the tolerance); integer outputs must
// stay exact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import v8 from 'node:v8';
import { InferenceSession } from '../../runtime/node.ts';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from '../ops/op-harness.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[]): InputSpec => ({ dtype: 'uint8', dims, range: [0, 256] });
const i8 = (dims: number[]): InputSpec => ({ dtype: 'int8', dims, range: [-128, 128] });
const sc = (dims: number[], range: [number, number] = [0.01, 0.03]): InputSpec => ({ dtype: 'float32', dims, range });
const bytes = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 73 + 11) % 256);

const cases: OpCase[] = [
  { name: 'QLinearMatMul u8 x i8', op: 'QLinearMatMul', opset: 10, inputs: [u8([7, 40]), sc([]), u8([]), i8([40, 13]), sc([]), i8([]), sc([], [0.2, 0.5]), u8([])], tolerance: EXACT, wasmKernel: true },
  { name: 'QLinearConv 3x3 and depthwise', op: 'QLinearConv', opset: 10, attrs: { pads: [1, 1, 1, 1] }, inputs: [u8([1, 4, 9, 11]), sc([]), u8([]), i8([6, 4, 3, 3]), sc([6]), i8([6]), sc([], [0.2, 0.6]), u8([])], tolerance: EXACT, wasmKernel: true },
  { name: 'QLinearConv depthwise stride 2', op: 'QLinearConv', opset: 10, attrs: { group: 5, pads: [1, 1, 1, 1], strides: [2, 2] }, inputs: [u8([1, 5, 10, 17]), sc([]), u8([]), i8([5, 1, 3, 3]), sc([]), i8([]), sc([], [0.05, 0.2]), u8([])], tolerance: EXACT, wasmKernel: true },
  { name: 'QuantizeLinear int8', op: 'QuantizeLinear', opset: 13, inputs: [{ dtype: 'float32', dims: [3, 29], range: [-3, 3] }, sc([]), i8([])], tolerance: EXACT, wasmKernel: true },
  {
    name: 'MatMulNBits 4-bit', op: 'MatMulNBits', domain: 'com.microsoft', attrs: { K: 96, N: 10, bits: 4, block_size: 32 }, wasmKernel: true, tolerance: { rtol: 1e-4, atol: 1e-5 },
    inputs: [{ dtype: 'float32', dims: [3, 96], range: [-1, 1] }, { dtype: 'uint8', dims: [10, 3, 16], values: bytes(480) }, { dtype: 'float32', dims: [30], values: Array.from({ length: 30 }, (_, i) => 0.01 + (i % 7) * 0.005) }],
  },
  // the relaxed swizzle in the weight unpacking: 8-bit with float zero points, 4-bit block 16 with packed ones
  {
    name: 'MatMulNBits 8-bit, float zero points', op: 'MatMulNBits', domain: 'com.microsoft', attrs: { K: 64, N: 6, bits: 8, block_size: 32 }, wasmKernel: true, tolerance: { rtol: 1e-4, atol: 1e-5 },
    inputs: [{ dtype: 'float32', dims: [2, 64], range: [-1, 1] }, { dtype: 'uint8', dims: [6, 2, 32], values: bytes(384) }, { dtype: 'float32', dims: [12], values: Array.from({ length: 12 }, (_, i) => 0.01 + (i % 5) * 0.004) }, { dtype: 'float32', dims: [12], values: Array.from({ length: 12 }, (_, i) => 100 + i * 7.25) }],
  },
  {
    name: 'MatMulNBits 4-bit block 16, packed zero points', op: 'MatMulNBits', domain: 'com.microsoft', attrs: { K: 48, N: 5, bits: 4, block_size: 16 }, wasmKernel: true, tolerance: { rtol: 1e-4, atol: 1e-5 },
    inputs: [{ dtype: 'float32', dims: [1, 48], range: [-1, 1] }, { dtype: 'uint8', dims: [5, 3, 8], values: bytes(120) }, { dtype: 'float32', dims: [15], values: Array.from({ length: 15 }, (_, i) => 0.02 + (i % 3) * 0.01) }, { dtype: 'uint8', dims: [10], values: bytes(10) }],
  },
];

test('the wasm backend runs its relaxed-SIMD build here', async () => {
  const { bytes: model } = buildCaseModel(cases[0]!);
  const session = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    assert.match(session.adapterInfo ?? '', /relaxed-SIMD/);
  } finally {
    await session.release();
  }
});

runOpCases('quantized ops, relaxed-SIMD build', cases);

// These weights are small enough that MatMulNBits runs the float GEMM on a dequantized copy by
// default (kernels/matmul-nbits/wasm.ts F32_COPY_BYTES); with the copy off, its own relaxed kernels.
const copyKnob = devKnobs;
describe('MatMulNBits with packed weights, relaxed-SIMD build', () => {
  before(() => void (copyKnob.KILN_NBITS_F32_BYTES = 0));
  after(() => void delete copyKnob.KILN_NBITS_F32_BYTES);
  runOpCases('MatMulNBits packed, relaxed-SIMD build', cases.filter((c) => c.op === 'MatMulNBits'));
});
