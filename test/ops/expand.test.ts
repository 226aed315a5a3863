import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'Expand wasm uint8 odd', op: 'Expand', inputs: [{ dtype: 'uint8', dims: [3, 1, 5], range: [0, 256] }, i64([2, 3, 7, 5])], wasmKernel: true },
  { name: 'Expand wasm bool', op: 'Expand', inputs: [{ dtype: 'bool', dims: [3, 1] }, i64([3, 9])], wasmKernel: true },
  { name: 'Expand column to matrix, new leading dim', op: 'Expand', inputs: [f32([3, 1]), i64([2, 3, 6])] },
  { name: 'Expand shape smaller than input', op: 'Expand', inputs: [f32([2, 3]), i64([1])] },
  { name: 'Expand shape with 1s keeps input dims', op: 'Expand', inputs: [f32([2, 1, 4]), i64([1, 5, 1])] },
  { name: 'Expand scalar', op: 'Expand', inputs: [f32([]), i64([4, 5])] },
  { name: 'Expand identity', op: 'Expand', inputs: [f32([2, 3]), i64([2, 3])] },
  // wasm: the strided copy with stride 0 on broadcast axes (odd sizes, a broadcast inner axis, a new leading one)
  { name: 'Expand wasm row to matrix', op: 'Expand', inputs: [f32([1, 7]), i64([5, 7])], wasmKernel: true },
  { name: 'Expand wasm column (inner axis broadcast)', op: 'Expand', inputs: [f32([3, 1]), i64([2, 3, 9])], wasmKernel: true },
  { name: 'Expand wasm per-channel to NCHW', op: 'Expand', inputs: [f32([1, 3, 1, 1]), i64([2, 3, 5, 7])], wasmKernel: true },
  { name: 'Expand wasm middle axis', op: 'Expand', inputs: [f32([2, 1, 5]), i64([2, 3, 5])], wasmKernel: true },
  { name: 'Expand int64', op: 'Expand', inputs: [{ dtype: 'int64', dims: [1, 3] }, i64([4, 3])] },
  { name: 'Expand bool', op: 'Expand', inputs: [{ dtype: 'bool', dims: [3] }, i64([2, 3])] },
  { name: 'Expand large (2-D dispatch)', op: 'Expand', inputs: [f32([1, 4096]), i64([1100, 4096])] },
  { name: 'Expand wasm int64 column', op: 'Expand', inputs: [{ dtype: 'int64', dims: [3, 1], range: [-1e9, 1e9] }, i64([2, 3, 5])], wasmKernel: true },
  { name: 'Expand wasm int32 row', op: 'Expand', inputs: [{ dtype: 'int32', dims: [1, 7], range: [-1e9, 1e9] }, i64([4, 7])], wasmKernel: true },
];

runOpCases('expand', cases);

runBadInputCases('expand', [
  { name: 'shapes do not broadcast', op: 'Expand', inputs: [f32([2, 3]), i64([2, 4])], error: /shapes \[2, 3\] and \[2, 4\] do not broadcast/ },
]);
