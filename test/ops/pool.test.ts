import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  ...['MaxPool', 'AveragePool', 'LpPool'].flatMap((op): OpCase[] => [
    { name: `${op} 1-D`, op, attrs: { kernel_shape: [3] }, inputs: [f32([2, 3, 11])] },
    { name: `${op} 2-D pads strides`, op, attrs: { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [2, 1] }, inputs: [f32([1, 2, 9, 8])] },
    { name: `${op} 2-D dilations ceil_mode`, op, opset: 19, attrs: { kernel_shape: [2, 3], dilations: [2, 2], strides: [2, 2], ceil_mode: 1 }, inputs: [f32([1, 3, 10, 11])] },
    { name: `${op} 2-D SAME_UPPER`, op, attrs: { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }, inputs: [f32([2, 2, 7, 8])] },
    { name: `${op} 2-D SAME_LOWER`, op, attrs: { kernel_shape: [2, 2], auto_pad: 'SAME_LOWER' }, inputs: [f32([1, 2, 6, 5])] },
    { name: `${op} 2-D VALID`, op, attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' }, inputs: [f32([1, 2, 8, 9])] },
    { name: `${op} 3-D`, op, attrs: { kernel_shape: [2, 2, 3], pads: [1, 0, 1, 0, 1, 1], strides: [1, 2, 2] }, inputs: [f32([1, 2, 5, 6, 7])] },
  ]),
  { name: 'AveragePool count_include_pad', op: 'AveragePool', attrs: { kernel_shape: [3, 3], pads: [1, 2, 2, 1], count_include_pad: 1 }, inputs: [f32([1, 2, 6, 6])] },
  { name: 'AveragePool count_include_pad ceil_mode', op: 'AveragePool', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1, ceil_mode: 1 }, inputs: [f32([1, 2, 6, 6])] },
  { name: 'LpPool p=1', op: 'LpPool', attrs: { kernel_shape: [2, 2], p: 1 }, inputs: [f32([1, 2, 5, 5])] },
  { name: 'MaxPool uint8', op: 'MaxPool', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, inputs: [{ dtype: 'uint8', dims: [1, 2, 6, 6], range: [0, 255] }] },
  { name: 'MaxPool int8', op: 'MaxPool', attrs: { kernel_shape: [2, 2] }, inputs: [{ dtype: 'int8', dims: [1, 2, 6, 6], range: [-128, 127] }] },
  { name: 'MaxPool with Indices', op: 'MaxPool', outputs: 2, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, inputs: [f32([2, 3, 7, 8])], wasmKernel: true },
  { name: 'MaxPool with Indices, storage_order 1', op: 'MaxPool', outputs: 2, attrs: { kernel_shape: [2, 3], strides: [2, 2], storage_order: 1 }, inputs: [f32([2, 2, 6, 9])], wasmKernel: true },
  { name: 'MaxPool with Indices, 1-D', op: 'MaxPool', outputs: 2, attrs: { kernel_shape: [4], strides: [3] }, inputs: [f32([2, 3, 20])], wasmKernel: true },
  // the wasm kernel (kiln_maxpool_indices_f32): pads, dilations, ceil_mode windows partly outside, both orders
  { name: 'MaxPool with Indices wasm pads dilations', op: 'MaxPool', outputs: 2, attrs: { kernel_shape: [3, 2], pads: [1, 0, 2, 1], dilations: [2, 1], strides: [1, 2] }, inputs: [f32([2, 3, 9, 7])], wasmKernel: true },
  { name: 'MaxPool with Indices wasm ceil_mode, storage_order 1', op: 'MaxPool', outputs: 2, opset: 19, attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1, storage_order: 1 }, inputs: [f32([1, 3, 7, 9])], wasmKernel: true },
  { name: 'MaxPool large (2-D dispatch)', op: 'MaxPool', attrs: { kernel_shape: [2, 2] }, inputs: [f32([1, 1, 2100, 2100])] },
  { name: 'GlobalAveragePool', op: 'GlobalAveragePool', inputs: [f32([2, 3, 5, 5])] },
  { name: 'GlobalAveragePool long (workgroup per channel)', op: 'GlobalAveragePool', inputs: [f32([2, 4, 32, 32])] },
  { name: 'GlobalAveragePool 1-D spatial', op: 'GlobalAveragePool', inputs: [f32([2, 3, 7])] },
  { name: 'GlobalMaxPool', op: 'GlobalMaxPool', inputs: [f32([2, 3, 4, 5])] },
  { name: 'GlobalMaxPool long', op: 'GlobalMaxPool', inputs: [f32([1, 3, 20, 20, 3])] },
  // The wasm kernels (kernels/wasm/src/pool.c): every 2-D geometry above must run there, plus odd rows
  ...['MaxPool', 'AveragePool'].flatMap((op): OpCase[] => [
    { name: `${op} wasm pads strides`, op, attrs: { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [2, 1] }, inputs: [f32([1, 2, 9, 8])], wasmKernel: true },
    { name: `${op} wasm dilations ceil_mode`, op, opset: 19, attrs: { kernel_shape: [2, 3], dilations: [2, 2], strides: [2, 2], ceil_mode: 1 }, inputs: [f32([1, 3, 10, 11])], wasmKernel: true },
    { name: `${op} wasm SAME_UPPER`, op, attrs: { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }, inputs: [f32([2, 2, 7, 8])], wasmKernel: true },
    { name: `${op} wasm 2x2 stride 2 (MNIST)`, op, attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32([1, 16, 28, 28])], wasmKernel: true },
  ]),
  { name: 'AveragePool wasm count_include_pad ceil_mode', op: 'AveragePool', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1, ceil_mode: 1 }, inputs: [f32([1, 2, 6, 6])], wasmKernel: true },
  // MaxPool 2x2 stride 2 has its own kernel (kiln_maxpool2x2_f32): odd inputs (last row and column
  // unread), 4 outputs a vector and a tail, infinities; ceil_mode's partial windows go to the general one
  { name: 'MaxPool wasm 2x2 odd input', op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32([2, 3, 9, 11])], wasmKernel: true },
  { name: 'MaxPool wasm 2x2 ceil_mode partial windows', op: 'MaxPool', opset: 19, attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, inputs: [f32([1, 2, 7, 9])], wasmKernel: true },
  { name: 'MaxPool wasm 2x2 infinities', op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [{ dtype: 'float32', dims: [1, 1, 2, 10], values: [-Infinity, -Infinity, 1, -1, Infinity, 0, -3, -2, 5, 5, -Infinity, -Infinity, -1, 2, 0, 1, -4, -5, 5, 4], feed: true }], wasmKernel: true },
  // 1-D pools run as 2-D ones over a height of 1
  ...['MaxPool', 'AveragePool'].flatMap((op): OpCase[] => [
    { name: `${op} wasm 1-D pads strides`, op, attrs: { kernel_shape: [3], pads: [1, 2], strides: [2] }, inputs: [f32([2, 3, 17])], wasmKernel: true },
    { name: `${op} wasm 1-D dilation ceil_mode`, op, opset: 19, attrs: { kernel_shape: [2], dilations: [2], strides: [2], ceil_mode: 1 }, inputs: [f32([1, 2, 13])], wasmKernel: true },
  ]),
  { name: 'AveragePool wasm 1-D count_include_pad', op: 'AveragePool', attrs: { kernel_shape: [4], pads: [2, 1], count_include_pad: 1 }, inputs: [f32([1, 3, 9])], wasmKernel: true },
  { name: 'GlobalAveragePool wasm odd spatial', op: 'GlobalAveragePool', inputs: [f32([2, 3, 5, 3])], wasmKernel: true },
  { name: 'GlobalMaxPool wasm odd spatial', op: 'GlobalMaxPool', inputs: [f32([2, 3, 7, 3])], wasmKernel: true },
  { name: 'GlobalMaxPool wasm infinities and negatives', op: 'GlobalMaxPool', inputs: [{ dtype: 'float32', dims: [1, 3, 5], values: [1, -9, 2, 3, 4, -Infinity, -1, -2, -3, -5, 5, 6, 7, 8, Infinity], feed: true }], wasmKernel: true },
];

runOpCases('pool', cases);

runBadInputCases('pool', [
  { name: 'MaxPool without kernel_shape', op: 'MaxPool', inputs: [f32([1, 1, 4, 4])], error: /kernel_shape is missing, expected 2 values/ },
  { name: 'AveragePool window larger than input', op: 'AveragePool', attrs: { kernel_shape: [5, 5] }, inputs: [f32([1, 1, 3, 3])], error: /window \(5 with dilation\) is larger than the padded input \(3\)/ },
  { name: 'MaxPool bad auto_pad', op: 'MaxPool', attrs: { kernel_shape: [2, 2], auto_pad: 'BOGUS' }, inputs: [f32([1, 1, 4, 4])], error: /auto_pad 'BOGUS' is not one of/ },
  { name: 'LpPool integer input', op: 'LpPool', attrs: { kernel_shape: [2] }, inputs: [{ dtype: 'int32', dims: [1, 1, 4] }], error: /type int32 is not one of/ },
]);
