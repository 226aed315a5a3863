import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'Split wasm uint8 odd axis 1', op: 'Split', outputs: 2, attrs: { axis: 1 }, inputs: [{ dtype: 'uint8', dims: [3, 5, 3], range: [0, 256] }, i64([1, 4])], wasmKernel: true },
  { name: 'Split wasm bool last axis', op: 'Split', outputs: 3, attrs: { axis: -1 }, inputs: [{ dtype: 'bool', dims: [2, 7] }, i64([3, 1, 3])], wasmKernel: true },
  { name: 'Split equal parts (opset 13)', op: 'Split', outputs: 3, inputs: [f32([6, 4])], wasmKernel: true },
  { name: 'Split equal parts, axis 1', op: 'Split', outputs: 2, attrs: { axis: 1 }, inputs: [f32([3, 8, 2])], wasmKernel: true },
  { name: 'Split input lengths', op: 'Split', outputs: 3, attrs: { axis: -1 }, inputs: [f32([2, 6]), i64([2, 3, 1])], wasmKernel: true },
  { name: 'Split attribute (opset 11)', op: 'Split', opset: 11, outputs: 2, attrs: { axis: 0, split: [1, 4] }, inputs: [f32([5, 3])], wasmKernel: true },
  { name: 'Split num_outputs uneven (opset 18)', op: 'Split', opset: 18, outputs: 3, attrs: { num_outputs: 3 }, inputs: [f32([7, 2])], wasmKernel: true },
  { name: 'Split with a zero-size part', op: 'Split', outputs: 3, inputs: [f32([4, 3]), i64([2, 0, 2])], wasmKernel: true },
  { name: 'Split int64', op: 'Split', outputs: 2, inputs: [{ dtype: 'int64', dims: [4] }] },
  { name: 'Split large (2-D dispatch)', op: 'Split', outputs: 2, attrs: { axis: 1 }, inputs: [f32([1100, 8192])] },
  { name: 'Split wasm int64 axis 1', op: 'Split', outputs: 2, attrs: { axis: 1 }, inputs: [{ dtype: 'int64', dims: [3, 5, 3], range: [-1e9, 1e9] }, i64([1, 4])], wasmKernel: true },
  { name: 'Split wasm int32 axis 0', op: 'Split', outputs: 3, inputs: [{ dtype: 'int32', dims: [6, 5], range: [-1e9, 1e9] }], wasmKernel: true },
];

runOpCases('split', cases);

runBadInputCases('split', [
  { name: 'lengths do not sum', op: 'Split', outputs: 2, inputs: [f32([5]), i64([2, 2])], error: /split \[2, 2\] does not sum to the axis length 5/ },
  { name: 'unequal parts', op: 'Split', outputs: 2, inputs: [f32([5])], error: /axis length 5 does not split into 2 equal parts/ },
]);
