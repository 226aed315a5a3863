import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
// INT64_MAX itself does not survive a JS number; any end past the dim means "to the end".
const BIG = 2 ** 52;
const INT64_MIN = -(2 ** 63);

const cases: OpCase[] = [
  { name: 'Slice wasm uint8 negative step', op: 'Slice', inputs: [{ dtype: 'uint8', dims: [5, 9], range: [0, 256] }, i64([4, 8]), i64([0, 1]), i64([0, 1]), i64([-1, -3])], wasmKernel: true },
  { name: 'Slice wasm bool rows', op: 'Slice', inputs: [{ dtype: 'bool', dims: [7, 11] }, i64([1]), i64([6]), i64([0])], wasmKernel: true },
  { name: 'Slice basic', op: 'Slice', inputs: [f32([5, 6]), i64([1, 2]), i64([4, 5])], wasmKernel: true },
  { name: 'Slice axes and steps', op: 'Slice', inputs: [f32([5, 6, 7]), i64([0, 1]), i64([7, 6]), i64([2, 0]), i64([2, 3])], wasmKernel: true },
  { name: 'Slice negative axes and starts', op: 'Slice', inputs: [f32([5, 6]), i64([-3]), i64([-1]), i64([-1])], wasmKernel: true },
  { name: 'Slice negative step', op: 'Slice', inputs: [f32([5, 6]), i64([4, -1]), i64([0, INT64_MIN]), i64([0, 1]), i64([-1, -2])], wasmKernel: true },
  { name: 'Slice huge end clamps', op: 'Slice', inputs: [f32([5, 6]), i64([2]), i64([BIG]), i64([1])], wasmKernel: true },
  { name: 'Slice out-of-bounds start is empty', op: 'Slice', inputs: [f32([5, 6]), i64([10]), i64([12]), i64([0])], wasmKernel: true },
  { name: 'Slice attributes (opset 9)', op: 'Slice', opset: 9, attrs: { starts: [1, 0], ends: [3, -1], axes: [0, 1] }, inputs: [f32([4, 5])], wasmKernel: true },
  { name: 'Slice int64', op: 'Slice', inputs: [{ dtype: 'int64', dims: [8] }, i64([1]), i64([7]), i64([0]), i64([3])] },
  { name: 'Slice bool', op: 'Slice', inputs: [{ dtype: 'bool', dims: [4, 4] }, i64([1]), i64([3]), i64([1])] },
  { name: 'Slice large (2-D dispatch)', op: 'Slice', inputs: [f32([2200, 2050]), i64([1]), i64([2049]), i64([1])] },
  // int32 and int64 data take the same strided copy (int64 as pairs of 32-bit words)
  { name: 'Slice wasm int64 steps and negative step', op: 'Slice', inputs: [{ dtype: 'int64', dims: [5, 7], range: [-1e9, 1e9] }, i64([0, 6]), i64([5, 0]), i64([0, 1]), i64([2, -2])], wasmKernel: true },
  { name: 'Slice wasm int32 middle axis', op: 'Slice', inputs: [{ dtype: 'int32', dims: [2, 5, 3], range: [-1e9, 1e9] }, i64([1]), i64([4]), i64([1])], wasmKernel: true },
];

runOpCases('slice', cases);

runBadInputCases('slice', [
  { name: 'zero step', op: 'Slice', inputs: [f32([5]), i64([0]), i64([3]), i64([0]), i64([0])], error: /step on axis 0 is 0/ },
  { name: 'lengths differ', op: 'Slice', inputs: [f32([5, 5]), i64([0, 1]), i64([3])], error: /different lengths/ },
  { name: 'repeated axis', op: 'Slice', inputs: [f32([5, 5]), i64([0, 1]), i64([3, 3]), i64([1, -1])], error: /axis -1 appears twice/ },
]);
