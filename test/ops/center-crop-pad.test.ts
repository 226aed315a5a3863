import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// No WGSL kernel yet: the node runs on the CPU in WebGPU sessions (gpu: false).
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const shape = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'crop odd and even differences', op: 'CenterCropPad', opset: 18, gpu: false, inputs: [f32(9, 8, 3), shape([6, 5, 3])] },
  { name: 'pad odd and even differences', op: 'CenterCropPad', opset: 18, gpu: false, inputs: [f32(3, 4, 2), shape([6, 7, 2])] },
  { name: 'crop one axis, pad another (axes)', op: 'CenterCropPad', opset: 18, gpu: false, attrs: { axes: [0, -2] }, inputs: [f32(10, 3, 2), shape([7, 6])] },
  { name: 'int64 image, channels first', op: 'CenterCropPad', opset: 18, gpu: false, attrs: { axes: [1, 2] }, inputs: [{ dtype: 'int64', dims: [3, 5, 5] }, shape([4, 8])] },
];

runOpCases('center-crop-pad', cases);

runBadInputCases('center-crop-pad', [
  { name: 'shape length', op: 'CenterCropPad', opset: 18, inputs: [f32(3, 4), shape([2])], error: /must give 2 sizes >= 0/ },
  { name: 'repeated axis', op: 'CenterCropPad', opset: 18, attrs: { axes: [1, -1] }, inputs: [f32(3, 4), shape([2, 2])], error: /repeat an axis/ },
]);
