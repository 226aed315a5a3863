import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const axis = (a: number, dtype: 'int32' | 'int64' = 'int64'): InputSpec => ({ dtype, dims: [], values: [a] });

const cases: OpCase[] = [
  { name: '1-D', op: 'CumSum', inputs: [f32([7]), axis(0)] },
  { name: '2-D axis 0', op: 'CumSum', inputs: [f32([5, 3]), axis(0)] },
  { name: '2-D axis 1, int32 axis', op: 'CumSum', inputs: [f32([5, 3]), axis(1, 'int32')] },
  { name: '3-D negative axis', op: 'CumSum', inputs: [f32([2, 7, 3]), axis(-2)] },
  { name: 'exclusive', op: 'CumSum', attrs: { exclusive: 1 }, inputs: [f32([3, 9]), axis(1)] },
  { name: 'reverse', op: 'CumSum', attrs: { reverse: 1 }, inputs: [f32([4, 5, 3]), axis(1)] },
  { name: 'reverse exclusive', op: 'CumSum', attrs: { reverse: 1, exclusive: 1 }, inputs: [f32([6, 5]), axis(-1)] },
  { name: 'int32', op: 'CumSum', inputs: [{ dtype: 'int32', dims: [3, 11] }, axis(1)] },
  { name: 'int64 reverse', op: 'CumSum', attrs: { reverse: 1 }, inputs: [{ dtype: 'int64', dims: [5, 4] }, axis(0)] },
  { name: 'float16', op: 'CumSum', inputs: [{ dtype: 'float16', dims: [2, 6] }, axis(1)], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: 'long rows (2-D dispatch of lines)', op: 'CumSum', inputs: [f32([70000, 2]), axis(1)] },
  { name: 'axis fed at run time', op: 'CumSum', inputs: [f32([3, 4]), { dtype: 'int64', dims: [], values: [1], feed: true }] },
  // CumProd: values near 1 keep long products finite
  { name: 'CumProd 2-D axis 1', op: 'CumProd', opset: 26, inputs: [{ dtype: 'float32', dims: [4, 9], range: [0.5, 1.5] }, axis(1)] },
  { name: 'CumProd exclusive reverse, negative axis', op: 'CumProd', opset: 26, attrs: { exclusive: 1, reverse: 1 }, inputs: [{ dtype: 'float32', dims: [3, 6, 2], range: [-1.5, 1.5] }, axis(-2)] },
  { name: 'CumProd int32', op: 'CumProd', opset: 26, inputs: [{ dtype: 'int32', dims: [2, 7], range: [-3, 4] }, axis(1)] },
  { name: 'CumProd int64 exclusive', op: 'CumProd', opset: 26, attrs: { exclusive: 1 }, inputs: [{ dtype: 'int64', dims: [6, 2], range: [-3, 4] }, axis(0)] },
];

runOpCases('cumsum', cases);

runBadInputCases('cumsum', [
  { name: 'axis out of range', op: 'CumSum', inputs: [f32([3, 2]), axis(2)], error: /axis 2 is out of range for rank 2/ },
  { name: 'axis not a scalar', op: 'CumSum', inputs: [f32([3, 2]), { dtype: 'int64', dims: [2], values: [0, 1] }], error: /axis must be a scalar/ },
  { name: 'float axis', op: 'CumSum', inputs: [f32([3, 2]), { dtype: 'float32', dims: [], values: [0] }], error: /axis type float32 is not one of int32, int64/ },
  { name: 'bool data', op: 'CumSum', inputs: [{ dtype: 'bool', dims: [3] }, axis(0)], error: /x type bool is not one of/ },
  { name: 'CumProd axis out of range', op: 'CumProd', opset: 26, inputs: [f32([3]), axis(-2)], error: /axis -2 is out of range for rank 1/ },
]);
