import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  { name: 'Concat wasm uint8 odd rows', op: 'Concat', attrs: { axis: 1 }, inputs: [{ dtype: 'uint8', dims: [3, 5, 3], range: [0, 256] }, { dtype: 'uint8', dims: [3, 2, 3], range: [0, 256] }], wasmKernel: true },
  { name: 'Concat wasm bool last axis', op: 'Concat', attrs: { axis: -1 }, inputs: [{ dtype: 'bool', dims: [2, 3] }, { dtype: 'bool', dims: [2, 5] }, { dtype: 'bool', dims: [2, 1] }], wasmKernel: true },
  { name: 'Concat wasm int8 axis 0', op: 'Concat', attrs: { axis: 0 }, inputs: [{ dtype: 'int8', dims: [3, 7], range: [-128, 128] }, { dtype: 'int8', dims: [1, 7], range: [-128, 128] }], wasmKernel: true },
  { name: 'Concat axis 0', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([2, 3]), f32([4, 3])], wasmKernel: true },
  { name: 'Concat axis 1 of three', op: 'Concat', attrs: { axis: 1 }, inputs: [f32([2, 1, 4]), f32([2, 5, 4]), f32([2, 2, 4])], wasmKernel: true },
  { name: 'Concat negative axis', op: 'Concat', attrs: { axis: -1 }, inputs: [f32([2, 3, 4]), f32([2, 3, 1])], wasmKernel: true },
  { name: 'Concat rank 1', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([5]), f32([1]), f32([3])], wasmKernel: true },
  { name: 'Concat single input', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([4, 2])], wasmKernel: true },
  { name: 'Concat zero-size input', op: 'Concat', attrs: { axis: 1 }, inputs: [f32([2, 3]), f32([2, 0]), f32([2, 2])], wasmKernel: true },
  { name: 'Concat nine inputs (two programs)', op: 'Concat', attrs: { axis: 1 }, inputs: Array.from({ length: 9 }, (_, i) => f32([3, i + 1, 2])), wasmKernel: true },
  { name: 'Concat with a constant', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([2, 2]), { dtype: 'float32', dims: [1, 2], values: [7, 8] }], wasmKernel: true },
  { name: 'Concat int64', op: 'Concat', attrs: { axis: 0 }, inputs: [{ dtype: 'int64', dims: [3] }, { dtype: 'int64', dims: [2] }] },
  { name: 'Concat bool', op: 'Concat', attrs: { axis: 1 }, inputs: [{ dtype: 'bool', dims: [2, 3] }, { dtype: 'bool', dims: [2, 5] }] },
  { name: 'Concat large (2-D dispatch)', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([2100, 1024]), f32([2100, 1024])] },
  { name: 'Concat wasm int64 axis 1', op: 'Concat', attrs: { axis: 1 }, inputs: [{ dtype: 'int64', dims: [2, 3, 5], range: [-1e9, 1e9] }, { dtype: 'int64', dims: [2, 1, 5], range: [-1e9, 1e9] }], wasmKernel: true },
  { name: 'Concat wasm int32 axis 0', op: 'Concat', attrs: { axis: 0 }, inputs: [{ dtype: 'int32', dims: [1, 7], range: [-1e9, 1e9] }, { dtype: 'int32', dims: [3, 7], range: [-1e9, 1e9] }], wasmKernel: true },
];

runOpCases('concat', cases);

runBadInputCases('concat', [
  { name: 'shapes differ off the axis', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([2, 3]), f32([2, 4])], error: /input #1 has shape \[2, 4\], incompatible with \[2, 3\] on axis 0/ },
  { name: 'types differ', op: 'Concat', attrs: { axis: 0 }, inputs: [f32([2]), { dtype: 'int32', dims: [2] }], error: /input #1 is int32, expected float32/ },
  { name: 'axis out of range', op: 'Concat', attrs: { axis: 2 }, inputs: [f32([2, 3]), f32([2, 3])], error: /axis 2 is out of range for rank 2/ },
]);
