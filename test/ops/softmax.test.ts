import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });

const cases: OpCase[] = [
  ...['Softmax', 'LogSoftmax', 'Hardmax'].flatMap((op): OpCase[] => [
    { name: `${op} default axis`, op, inputs: [f32([3, 4, 5])] },
    { name: `${op} axis 0`, op, attrs: { axis: 0 }, inputs: [f32([3, 4, 5])] },
    { name: `${op} negative middle axis`, op, attrs: { axis: -2 }, inputs: [f32([3, 4, 5])] },
    { name: `${op} rank 1`, op, inputs: [f32([7])] },
    { name: `${op} long rows (workgroup per row)`, op, inputs: [f32([3, 5000], [-20, 20])] },
    { name: `${op} long strided rows`, op, attrs: { axis: 0 }, inputs: [f32([300, 7])] },
    { name: `${op} opset 11 coerced to 2-D`, op, opset: 11, attrs: { axis: 1 }, inputs: [f32([2, 3, 4])] },
    { name: `${op} opset 11 coerced, long rows`, op, opset: 11, attrs: { axis: 1 }, inputs: [f32([2, 30, 40])] },
    { name: `${op} float16`, op, inputs: [{ dtype: 'float16', dims: [4, 9] }], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  ]),
  { name: 'Softmax large values', op: 'Softmax', inputs: [f32([4, 8], [1000, 1010])] },
  // float16 in [1, 1.01) has ~10 distinct values: many ties, which must go to the first maximum
  { name: 'Hardmax ties pick the first', op: 'Hardmax', inputs: [{ dtype: 'float16', dims: [6, 20], range: [1, 1.01] }] },
  { name: 'Hardmax ties pick the first, long rows', op: 'Hardmax', inputs: [{ dtype: 'float16', dims: [3, 500], range: [1, 1.01] }] },
  { name: 'Softmax many long rows (2-D dispatch)', op: 'Softmax', inputs: [f32([70000, 64])] },
  { name: 'Softmax many short rows (2-D dispatch)', op: 'Softmax', inputs: [f32([4200000, 2])] },
  // The wasm kernel: contiguous rows with tails (len 7, 1, 4099), large and special values.
  ...['Softmax', 'LogSoftmax'].flatMap((op): OpCase[] => [
    { name: `${op} wasm odd rows`, op, inputs: [f32([5, 7], [-20, 20])], wasmKernel: true },
    { name: `${op} wasm rows of one`, op, inputs: [f32([6, 1])], wasmKernel: true },
    { name: `${op} wasm long rows`, op, inputs: [f32([3, 4099], [-30, 30])], wasmKernel: true },
    { name: `${op} wasm opset 11 coerced`, op, opset: 11, attrs: { axis: 1 }, inputs: [f32([2, 3, 5])], wasmKernel: true },
    { name: `${op} wasm large values`, op, inputs: [f32([4, 9], [1000, 1010])], wasmKernel: true },
    { name: `${op} wasm special values`, op, inputs: [{ dtype: 'float32', dims: [3, 3], values: [0, -Infinity, 1, 3, 1, 2, -100, 100, 0], feed: true }], wasmKernel: true },
    // strided axes (kernels/wasm/src/softmax.c, kiln_softmax_strided_f32): 4 columns a vector and a tail of 1-3
    { name: `${op} wasm channel axis of NCHW`, op, attrs: { axis: 1 }, inputs: [f32([2, 5, 3, 7], [-20, 20])], wasmKernel: true },
    { name: `${op} wasm leading axis, inner 8`, op, attrs: { axis: 0 }, inputs: [f32([9, 8], [-20, 20])], wasmKernel: true },
    { name: `${op} wasm middle axis large values`, op, attrs: { axis: -2 }, inputs: [f32([3, 6, 5], [1000, 1010])], wasmKernel: true },
    { name: `${op} wasm strided special values`, op, attrs: { axis: 0 }, inputs: [{ dtype: 'float32', dims: [3, 5], values: [0, -Infinity, 1, 3, 7, 3, 1, 2, -100, 0, -100, 100, 0, 5, 1], feed: true }], wasmKernel: true },
  ]),
];

runOpCases('softmax', cases);
// Rows of 64 or more take the workgroup-per-row form on hardware GPUs.

runBadInputCases('softmax', [
  { name: 'integer input', op: 'Softmax', inputs: [{ dtype: 'int32', dims: [3] }], error: /type int32 is not one of float32/ },
  { name: 'axis out of range', op: 'LogSoftmax', attrs: { axis: 2 }, inputs: [f32([2, 3])], error: /axis 2 is out of range for rank 2/ },
]);
