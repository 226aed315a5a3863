import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const k = (v: number): InputSpec => ({ dtype: 'int64', dims: [], values: [v] });

const cases: OpCase[] = [
  { name: 'upper default', op: 'Trilu', inputs: [f32([4, 5])] },
  { name: 'lower', op: 'Trilu', attrs: { upper: 0 }, inputs: [f32([5, 4])] },
  { name: 'upper k = 1, batched', op: 'Trilu', inputs: [f32([2, 3, 5, 7]), k(1)] },
  { name: 'upper k = -2', op: 'Trilu', inputs: [f32([6, 3]), k(-2)] },
  { name: 'lower k = -1, batched', op: 'Trilu', attrs: { upper: 0 }, inputs: [f32([3, 4, 4]), k(-1)] },
  { name: 'lower k = 3', op: 'Trilu', attrs: { upper: 0 }, inputs: [f32([3, 9]), k(3)] },
  { name: 'k beyond the matrix', op: 'Trilu', inputs: [f32([3, 4]), k(40)] },
  { name: 'k far below', op: 'Trilu', attrs: { upper: 0 }, inputs: [f32([3, 4]), k(-5000000000)] },
  { name: 'int64 data', op: 'Trilu', inputs: [{ dtype: 'int64', dims: [4, 4] }, k(0)] },
  { name: 'bool data lower', op: 'Trilu', attrs: { upper: 0 }, inputs: [{ dtype: 'bool', dims: [5, 5] }] },
  { name: 'k fed at run time', op: 'Trilu', inputs: [f32([5, 5]), { dtype: 'int64', dims: [], values: [1], feed: true }] },
  { name: 'zero rows', op: 'Trilu', inputs: [f32([0, 5]), k(0)], gpu: false },
];

runOpCases('trilu', cases);

runBadInputCases('trilu', [
  { name: 'rank 1', op: 'Trilu', inputs: [f32([4])], error: /rank >= 2/ },
  { name: 'int32 k', op: 'Trilu', inputs: [f32([3, 3]), { dtype: 'int32', dims: [], values: [0] }], error: /k type int32 is not one of int64/ },
  { name: 'k with two values', op: 'Trilu', inputs: [f32([3, 3]), { dtype: 'int64', dims: [2], values: [0, 1] }], error: /k must be a scalar/ },
]);
