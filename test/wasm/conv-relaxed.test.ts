// The op cases of test/ops run the SIMD128 build (Node 20 keeps relaxed SIMD behind a flag). Here
// the flag is on, so the wasm backend picks its relaxed-SIMD build (f32x4.relaxed_madd in the GEMM,
// the conv's depthwise kernel and everything built on them): a few cases of every path of the conv
// family's wasm kernels, against the plain reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { InferenceSession } from '../../runtime/node.ts';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from '../ops/op-harness.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const conv = (name: string, op: string, inputs: InputSpec[], attrs: OpCase['attrs']): OpCase => ({ name, op, inputs, attrs, wasmKernel: true, tolerance: { rtol: 1e-4, atol: 1e-4 } });

const cases: OpCase[] = [
  conv('3x3 pads, bias, Relu, chunks with a tail', 'Conv', [f32(1, 24, 13, 15), f32(10, 24, 3, 3), f32(10)], { pads: [1, 1, 1, 1], kiln_activation: 'Relu' }),
  conv('1x1 direct pack', 'Conv', [f32(2, 9, 5, 7), f32(6, 9, 1, 1)], {}),
  conv('stride 2 wide rows, HardSwish', 'Conv', [f32(1, 3, 7, 37), f32(5, 3, 3, 3), f32(5)], { strides: [2, 2], pads: [1, 1, 1, 1], kiln_activation: 'HardSwish' }),
  conv('depthwise 3x3 Clip', 'Conv', [f32(1, 4, 11, 19), f32(4, 1, 3, 3), f32(4)], { group: 4, pads: [1, 1, 1, 1], kiln_activation: 'Clip', kiln_activation_params: { floats: [0, 6] } }),
  conv('depthwise 5x5 stride 2', 'Conv', [f32(1, 3, 15, 21), f32(3, 1, 5, 5)], { group: 3, strides: [2, 2], pads: [2, 2, 2, 2] }),
  conv('ConvTranspose 4x4 stride 2', 'ConvTranspose', [f32(1, 6, 5, 7), f32(6, 4, 4, 4), f32(4)], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('Gemm transB + bias', 'Gemm', [f32(9, 21), f32(11, 21), f32(11)], { transB: 1 }),
];

test('the wasm backend runs its relaxed-SIMD build here', async () => {
  const { bytes } = buildCaseModel(cases[0]!);
  const session = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    assert.match(session.adapterInfo ?? '', /relaxed-SIMD/);
  } finally {
    await session.release();
  }
});

runOpCases('conv family, relaxed-SIMD build', cases);
