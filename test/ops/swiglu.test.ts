import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { Attributes } from '../../core/attributes.ts';
import { definitions } from '../../kernels/swiglu/op.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// SwiGLU runs on the CPU in every session (gpu: false).
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  { name: 'same shapes', op: 'SwiGLU', opset: 28, gpu: false, inputs: [f32(2, 3, 8), f32(2, 3, 8)] },
  { name: 'alpha, B broadcast', op: 'SwiGLU', opset: 28, gpu: false, attrs: { alpha: { float: 1.702 } }, inputs: [f32(4, 6), f32(6)] },
  { name: 'float16', op: 'SwiGLU', opset: 28, gpu: false, inputs: [{ dtype: 'float16', dims: [3, 5] }, { dtype: 'float16', dims: [3, 5] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
];

runOpCases('swiglu', cases);

runBadInputCases('swiglu', [
  { name: 'shapes', op: 'SwiGLU', opset: 28, inputs: [f32(2, 3), f32(4)], error: /do not broadcast/ },
  { name: 'types', op: 'SwiGLU', opset: 28, inputs: [f32(2, 3), { dtype: 'float16', dims: [2, 3] }], error: /B/ },
]);

test('SwiGLU is A * sigmoid(alpha * A) * B', () => {
  const [swiglu] = definitions;
  const a = [-2, 0, 0.5, 3];
  const b = [1.5, -1, 2, 0.25];
  for (const alpha of [1, 0.5]) {
    const got = swiglu!.reference([new Tensor('float32', Float32Array.from(a), [4]), new Tensor('float32', Float32Array.from(b), [4])], { attrs: new Attributes(new Map([['alpha', alpha]])), opset: 28, node: 's', host: [] })[0]!.data as Float32Array;
    a.forEach((x, i) => assert.ok(Math.abs(got[i]! - x * (1 / (1 + Math.exp(-alpha * x))) * b[i]!) < 1e-6, `alpha ${alpha} element ${i}`));
  }
});
