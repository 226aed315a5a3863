import assert from 'node:assert/strict';
import { test } from 'node:test';
import { determinant } from '../../kernels/det/op.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Det runs on the CPU in every session (gpu: false): its reference is the js path.
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  { name: 'one 2x2', op: 'Det', opset: 11, gpu: false, inputs: [f32(2, 2)] },
  { name: 'batch of 5x5', op: 'Det', opset: 11, gpu: false, inputs: [f32(2, 3, 5, 5)] },
  { name: '1x1 and float64', op: 'Det', opset: 22, gpu: false, inputs: [{ dtype: 'float64', dims: [4, 1, 1] }] },
  { name: 'float16 3x3', op: 'Det', opset: 22, gpu: false, inputs: [{ dtype: 'float16', dims: [3, 3, 3] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
];

runOpCases('det', cases);

runBadInputCases('det', [
  { name: 'not square', op: 'Det', opset: 11, inputs: [f32(2, 3, 4)], error: /\[\.\.\., M, M\]/ },
  { name: 'rank 1', op: 'Det', opset: 11, inputs: [f32(4)], error: /\[\.\.\., M, M\]/ },
]);

test('determinant: known values, a row swap, a singular matrix, the empty matrix', () => {
  assert.equal(determinant(Float64Array.from([3, 8, 4, 6]), 0, 2), 3 * 6 - 8 * 4);
  // the first pivot is 0: a row swap flips the sign
  assert.equal(determinant(Float64Array.from([0, 1, 0, 1, 0, 0, 0, 0, 2]), 0, 3), -2);
  assert.equal(determinant(Float64Array.from([1, 2, 3, 2, 4, 6, 1, 0, 1]), 0, 3), 0);
  assert.equal(determinant(new Float64Array(0), 0, 0), 1);
});
