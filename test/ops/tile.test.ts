import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'Tile wasm int8 odd', op: 'Tile', inputs: [{ dtype: 'int8', dims: [3, 1, 5], range: [-128, 128] }, i64([2, 3, 3])], wasmKernel: true },
  { name: 'Tile wasm bool', op: 'Tile', inputs: [{ dtype: 'bool', dims: [3] }, i64([3])], wasmKernel: true },
  { name: 'Tile 2-D', op: 'Tile', inputs: [f32([2, 3]), i64([2, 3])], wasmKernel: true },
  { name: 'Tile rank 1', op: 'Tile', inputs: [f32([5]), i64([4])], wasmKernel: true },
  { name: 'Tile with ones', op: 'Tile', inputs: [f32([2, 1, 3]), i64([1, 4, 1])], wasmKernel: true },
  { name: 'Tile zero repeats', op: 'Tile', inputs: [f32([2, 3]), i64([0, 2])], wasmKernel: true },
  { name: 'Tile int32', op: 'Tile', inputs: [{ dtype: 'int32', dims: [3, 2] }, i64([2, 2])], wasmKernel: true },
  { name: 'Tile bool', op: 'Tile', inputs: [{ dtype: 'bool', dims: [3] }, i64([3])] },
  { name: 'Tile large (2-D dispatch)', op: 'Tile', inputs: [f32([64, 4096]), i64([17, 1])], wasmKernel: true },
  // the wasm strided copy (kernels/tile/wasm.ts): odd sizes, every axis repeated, int64 as word pairs
  { name: 'Tile wasm 3-D odd', op: 'Tile', inputs: [f32([3, 1, 5]), i64([2, 3, 3])], wasmKernel: true },
  { name: 'Tile wasm int64', op: 'Tile', inputs: [{ dtype: 'int64', dims: [2, 3], range: [-1e9, 1e9] }, i64([3, 2])], wasmKernel: true },
];

runOpCases('tile', cases);

runBadInputCases('tile', [
  { name: 'repeats length', op: 'Tile', inputs: [f32([2, 3]), i64([2])], error: /repeats \[2\] must be 2 non-negative values/ },
]);
