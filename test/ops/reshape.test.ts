import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'Reshape with -1', op: 'Reshape', inputs: [f32([2, 3, 4]), i64([4, -1])] },
  { name: 'Reshape 0 copies a dim', op: 'Reshape', inputs: [f32([2, 3, 4]), i64([0, -1])] },
  { name: 'Reshape allowzero keeps a 0', op: 'Reshape', opset: 14, attrs: { allowzero: 1 }, inputs: [f32([0, 3]), i64([3, 0])] },
  { name: 'Reshape to a scalar', op: 'Reshape', inputs: [f32([1, 1]), { dtype: 'int64', dims: [0], values: [] }] },
  { name: 'Reshape from a scalar', op: 'Reshape', inputs: [f32([]), i64([1, 1, 1])] },
  { name: 'Reshape int64 data', op: 'Reshape', inputs: [{ dtype: 'int64', dims: [6] }, i64([3, 2])] },
  { name: 'Reshape bool data', op: 'Reshape', inputs: [{ dtype: 'bool', dims: [6] }, i64([2, -1])] },
  { name: 'Flatten default axis', op: 'Flatten', inputs: [f32([2, 3, 4])] },
  { name: 'Flatten axis 0', op: 'Flatten', attrs: { axis: 0 }, inputs: [f32([2, 3, 4])] },
  { name: 'Flatten negative axis', op: 'Flatten', attrs: { axis: -1 }, inputs: [f32([2, 3, 4])] },
  { name: 'Flatten axis = rank', op: 'Flatten', attrs: { axis: 3 }, inputs: [f32([2, 3, 4])] },
  { name: 'Squeeze all ones', op: 'Squeeze', inputs: [f32([1, 3, 1, 2])] },
  { name: 'Squeeze axes input (opset 13)', op: 'Squeeze', inputs: [f32([1, 3, 1, 2]), i64([-2])] },
  { name: 'Squeeze axes attribute (opset 11)', op: 'Squeeze', opset: 11, attrs: { axes: [0] }, inputs: [f32([1, 3, 1, 2])] },
  { name: 'Unsqueeze axes input (opset 13)', op: 'Unsqueeze', inputs: [f32([3, 2]), i64([0, -1])] },
  { name: 'Unsqueeze unsorted axes', op: 'Unsqueeze', inputs: [f32([3, 2]), i64([3, 1])] },
  { name: 'Unsqueeze axes attribute (opset 11)', op: 'Unsqueeze', opset: 11, attrs: { axes: [1] }, inputs: [f32([3, 2])] },
  { name: 'Unsqueeze a scalar', op: 'Unsqueeze', inputs: [f32([]), i64([0])] },
];

runOpCases('reshape', cases);

runBadInputCases('reshape', [
  { name: 'element count differs', op: 'Reshape', inputs: [f32([2, 3]), i64([4, 2])], error: /cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/ },
  { name: 'two -1', op: 'Reshape', inputs: [f32([2, 3]), i64([-1, -1])], error: /more than one -1/ },
  { name: 'squeeze a non-1 axis', op: 'Squeeze', inputs: [f32([2, 3]), i64([0])], error: /axis 0 has size 2, expected 1/ },
  { name: 'unsqueeze repeated axis', op: 'Unsqueeze', inputs: [f32([2, 3]), i64([1, 1])], error: /repeat an axis/ },
  { name: 'flatten axis out of range', op: 'Flatten', attrs: { axis: 4 }, inputs: [f32([2, 3])], error: /axis 4 is out of range for rank 2/ },
]);
