import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// DeformConv runs on the CPU in every session (gpu: false): its reference is the js path.
const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, range });
/** offsets of up to 1.5 pixels each way: taps land between pixels and outside the image */
const offsets = (...dims: number[]): InputSpec => f32(dims, [-1.5, 1.5]);

const cases: OpCase[] = [
  { name: '3x3, pads, no bias or mask', op: 'DeformConv', opset: 19, gpu: false, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, inputs: [f32([1, 2, 5, 6]), f32([3, 2, 3, 3]), offsets(1, 18, 5, 6)] },
  { name: 'groups, offset groups, strides, dilations, bias and mask', op: 'DeformConv', opset: 19, gpu: false, attrs: { group: 2, offset_group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 1, 2] }, inputs: [f32([2, 4, 6, 5]), f32([4, 2, 2, 3]), offsets(2, 2 * 6 * 2, 4, 3), f32([4]), f32([2, 2 * 6, 4, 3], [0, 1])] },
  { name: 'mask without bias', op: 'DeformConv', opset: 22, gpu: false, inputs: [f32([1, 1, 4, 4]), f32([2, 1, 2, 2]), offsets(1, 8, 3, 3), { dtype: 'float32', dims: [], omit: true }, f32([1, 4, 3, 3], [0, 1])] },
];

runOpCases('deform-conv', cases);

runBadInputCases('deform-conv', [
  { name: '1-D', op: 'DeformConv', opset: 19, inputs: [f32([1, 1, 5]), f32([1, 1, 2]), f32([1, 2, 4])], error: /only 2-D/ },
  { name: 'offset shape', op: 'DeformConv', opset: 19, inputs: [f32([1, 1, 4, 4]), f32([1, 1, 2, 2]), f32([1, 4, 3, 3])], error: /offset must be \[1, 8, 3, 3\]/ },
  { name: 'mask shape', op: 'DeformConv', opset: 19, inputs: [f32([1, 1, 4, 4]), f32([1, 1, 2, 2]), f32([1, 8, 3, 3]), f32([1]), f32([1, 4, 2, 2])], error: /mask must be \[1, 4, 3, 3\]/ },
  { name: 'channels', op: 'DeformConv', opset: 19, attrs: { offset_group: 3 }, inputs: [f32([1, 2, 4, 4]), f32([1, 2, 2, 2]), f32([1, 24, 3, 3])], error: /channels do not fit/ },
]);
