import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
/** random indices in [-n, n): negative ones count from the end */
const idx = (dtype: 'int32' | 'int64', dims: number[], n: number): InputSpec => ({ dtype, dims, range: [-n, n] });

const cases: OpCase[] = [
  { name: 'Gather axis 0', op: 'Gather', inputs: [f32([5, 4]), idx('int64', [3], 5)] },
  { name: 'Gather axis 1, 2-D indices', op: 'Gather', attrs: { axis: 1 }, inputs: [f32([3, 6, 2]), idx('int64', [2, 4], 6)] },
  { name: 'Gather negative axis, int32 indices', op: 'Gather', attrs: { axis: -1 }, inputs: [f32([3, 7]), idx('int32', [5], 7)] },
  { name: 'Gather scalar index', op: 'Gather', inputs: [f32([4, 3]), { dtype: 'int64', dims: [], values: [-2] }] },
  { name: 'Gather constant indices', op: 'Gather', attrs: { axis: 1 }, inputs: [f32([2, 5]), { dtype: 'int64', dims: [3], values: [4, 0, -1] }] },
  { name: 'Gather int64 data (embedding of ids)', op: 'Gather', inputs: [{ dtype: 'int64', dims: [10] }, idx('int64', [4, 2], 10)] },
  { name: 'Gather large (2-D dispatch)', op: 'Gather', inputs: [f32([3000, 512]), idx('int64', [9000], 3000)] },
  { name: 'GatherElements axis 0', op: 'GatherElements', inputs: [f32([3, 4]), idx('int64', [2, 4], 3)] },
  { name: 'GatherElements axis 1, int32', op: 'GatherElements', attrs: { axis: 1 }, inputs: [f32([3, 4]), idx('int32', [3, 6], 4)] },
  { name: 'GatherElements 3-D negative axis', op: 'GatherElements', attrs: { axis: -1 }, inputs: [f32([2, 3, 5]), idx('int64', [2, 2, 3], 5)] },
  { name: 'GatherND tuples of 2', op: 'GatherND', inputs: [f32([3, 4, 5]), { dtype: 'int64', dims: [2, 2], values: [0, 1, 2, -1] }] },
  { name: 'GatherND full tuples', op: 'GatherND', inputs: [f32([3, 4]), { dtype: 'int64', dims: [3, 2], values: [0, 0, 2, 3, 1, 2] }] },
  { name: 'GatherND batch_dims 1', op: 'GatherND', attrs: { batch_dims: 1 }, inputs: [f32([2, 3, 4]), { dtype: 'int32', dims: [2, 2, 1], values: [1, 0, 2, 2] }] },
  // The wasm kernels (kernels/wasm/src/gather.c): every dtype the arena holds, every axis position,
  // rows short (element loops) and long (bulk copies), negative indices (the random range is [-n, n))
  { name: 'Gather wasm axis 2 of 4-D, odd', op: 'Gather', attrs: { axis: 2 }, inputs: [f32([2, 3, 7, 5]), idx('int64', [4, 3], 7)], wasmKernel: true },
  { name: 'Gather wasm last axis, int32 indices', op: 'Gather', attrs: { axis: -1 }, inputs: [f32([3, 5, 9]), idx('int32', [11], 9)], wasmKernel: true },
  { name: 'Gather wasm embedding rows (bulk copy)', op: 'Gather', inputs: [f32([50, 33]), idx('int64', [2, 7], 50)], wasmKernel: true },
  { name: 'Gather wasm int64 data', op: 'Gather', attrs: { axis: 1 }, inputs: [{ dtype: 'int64', dims: [3, 6], range: [-1e6, 1e6] }, idx('int64', [5], 6)], wasmKernel: true },
  { name: 'Gather wasm int32 data, scalar index', op: 'Gather', attrs: { axis: 1 }, inputs: [{ dtype: 'int32', dims: [4, 5, 3] }, { dtype: 'int64', dims: [], values: [-5], feed: true }], wasmKernel: true },
  { name: 'Gather wasm uint8 data', op: 'Gather', inputs: [{ dtype: 'uint8', dims: [9, 5], range: [0, 256] }, idx('int32', [6], 9)], wasmKernel: true },
  { name: 'Gather wasm bool data', op: 'Gather', attrs: { axis: 1 }, inputs: [{ dtype: 'bool', dims: [3, 8] }, idx('int64', [5], 8)], wasmKernel: true },
  { name: 'Gather wasm empty indices', op: 'Gather', inputs: [f32([4, 3]), { dtype: 'int64', dims: [0], values: [], feed: true }] },
  { name: 'GatherElements wasm axis 1 of 3-D, smaller indices', op: 'GatherElements', attrs: { axis: 1 }, inputs: [f32([3, 7, 5]), idx('int64', [2, 9, 4], 7)], wasmKernel: true },
  { name: 'GatherElements wasm int64 data, int32 indices', op: 'GatherElements', attrs: { axis: 0 }, inputs: [{ dtype: 'int64', dims: [5, 3], range: [-1e6, 1e6] }, idx('int32', [7, 3], 5)], wasmKernel: true },
  // GatherND in wasm: odd sizes, negative indices, batch_dims, slices and single elements, 1/4/8-byte data
  { name: 'GatherND wasm tuples of 2, odd', op: 'GatherND', inputs: [f32([5, 5, 3]), idx('int64', [3, 4, 2], 5)], wasmKernel: true },
  { name: 'GatherND wasm full tuples, int32 indices', op: 'GatherND', inputs: [f32([7, 7]), idx('int32', [9, 2], 7)], wasmKernel: true },
  { name: 'GatherND wasm batch_dims 1', op: 'GatherND', attrs: { batch_dims: 1 }, inputs: [f32([3, 5, 7]), idx('int64', [3, 4, 1], 5)], wasmKernel: true },
  { name: 'GatherND wasm batch_dims 2, int64 data', op: 'GatherND', attrs: { batch_dims: 2 }, inputs: [{ dtype: 'int64', dims: [2, 3, 5, 3], range: [-1e6, 1e6] }, idx('int32', [2, 3, 2, 1], 5)], wasmKernel: true },
  { name: 'GatherND wasm uint8 data', op: 'GatherND', inputs: [{ dtype: 'uint8', dims: [6, 6, 5], range: [0, 256] }, idx('int64', [7, 2], 6)], wasmKernel: true },
  { name: 'GatherND wasm bool data', op: 'GatherND', inputs: [{ dtype: 'bool', dims: [9, 3] }, idx('int64', [4, 1], 9)], wasmKernel: true },
  { name: 'GatherElements wasm uint8 data, last axis', op: 'GatherElements', attrs: { axis: -1 }, inputs: [{ dtype: 'uint8', dims: [2, 3, 6], range: [0, 256] }, idx('int64', [2, 3, 4], 6)], wasmKernel: true },
];

runOpCases('gather', cases);

runBadInputCases('gather', [
  { name: 'float indices', op: 'Gather', inputs: [f32([3]), f32([2])], error: /indices type float32 is not one of int32, int64/ },
  { name: 'axis out of range', op: 'Gather', attrs: { axis: 2 }, inputs: [f32([3, 2]), idx('int64', [2], 2)], error: /axis 2 is out of range for rank 2/ },
  { name: 'GatherElements rank', op: 'GatherElements', inputs: [f32([3, 2]), idx('int64', [2], 2)], error: /indices rank 1 must equal data rank 2/ },
  { name: 'GatherND tuple too long', op: 'GatherND', inputs: [f32([3]), { dtype: 'int64', dims: [1, 2], values: [0, 0] }], error: /are inconsistent/ },
]);
