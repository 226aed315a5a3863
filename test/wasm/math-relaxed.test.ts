// The op cases of test/ops run the SIMD128 build; here Node's relaxed-SIMD flag is on, so the wasm
// backend picks its relaxed build, where kernels/wasm/src/vmath.h's exp and erf polynomials and the
// conv kernels' sums are fused multiply-adds. The vector math's documented bounds, held on that
// build: exp within 2e-7 relative (held to 1e-6, as test/ops/elementwise-unary.test.ts holds the
// plain build), erf 1e-6 across its switch at 0.9277, Gelu's negative half within 1e-4 (e^r as erfc),
// sigmoid and tanh; softmax rows; and the conv forms this build changes (Winograd with a HardSwish,
// 5x5 depthwise rows two at a time) against the plain reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { InferenceSession } from '../../runtime/node.ts';
import { buildCaseModel, runOpCases, type InputSpec, type OpCase } from '../ops/op-harness.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });
const tight = { rtol: 1e-6, atol: 1e-37 };

const cases: OpCase[] = [
  { name: 'Exp over its whole range', op: 'Exp', inputs: [f32([2053], [-106, 89])], wasmTolerance: tight, wasmKernel: true },
  { name: 'Sigmoid saturating both ways', op: 'Sigmoid', inputs: [f32([1003], [-90, 90])], wasmTolerance: tight, wasmKernel: true },
  { name: 'Tanh', op: 'Tanh', inputs: [f32([1003], [-9, 9])], wasmTolerance: { rtol: 1e-6, atol: 1e-9 }, wasmKernel: true },
  { name: 'Erf across the series switch and out to its tails', op: 'Erf', inputs: [f32([2003], [-4.5, 4.5])], wasmTolerance: { rtol: 1e-6, atol: 1e-9 }, wasmKernel: true },
  { name: 'Gelu negative half', op: 'Gelu', opset: 20, inputs: [f32([1003], [-5.5, 0])], wasmTolerance: { rtol: 1e-4, atol: 1e-12 }, wasmKernel: true },
  { name: 'Gelu both halves', op: 'Gelu', opset: 20, inputs: [f32([7, 129], [-7, 7])], wasmKernel: true },
  { name: 'Softmax rows of 67', op: 'Softmax', inputs: [f32([9, 67], [-30, 30])], wasmTolerance: { rtol: 1e-6, atol: 1e-12 }, wasmKernel: true },
  { name: 'Winograd 3x3 with a fused HardSwish', op: 'Conv', attrs: { pads: [1, 1, 1, 1], kiln_activation: 'HardSwish' }, inputs: [f32([1, 16, 11, 14]), f32([20, 16, 3, 3]), f32([20])], tolerance: { rtol: 1e-4, atol: 1e-4 }, wasmKernel: true },
  { name: 'depthwise 5x5 rows in pairs, 9 of them', op: 'Conv', attrs: { group: 5, pads: [2, 2, 2, 2] }, inputs: [f32([1, 5, 9, 21]), f32([5, 1, 5, 5]), f32([5])], tolerance: { rtol: 1e-4, atol: 1e-4 }, wasmKernel: true },
];

test('the wasm backend runs its relaxed-SIMD build here', async () => {
  const session = await InferenceSession.create(buildCaseModel(cases[0]!).bytes, { executionProviders: ['wasm'] });
  try {
    assert.match(session.adapterInfo ?? '', /relaxed-SIMD/);
  } finally {
    await session.release();
  }
});

runOpCases('vector math, relaxed-SIMD build', cases);
