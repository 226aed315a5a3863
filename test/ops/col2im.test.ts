import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Col2Im runs on the CPU in every session (gpu: false): the js fast path and the reference.
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const ints = (...values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: '2-D 5x5 image, 2x2 blocks', op: 'Col2Im', opset: 18, gpu: false, inputs: [f32(2, 3 * 4, 16), ints(5, 5), ints(2, 2)] },
  { name: 'strides, dilations and uneven pads', op: 'Col2Im', opset: 18, gpu: false, attrs: { strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 1] }, inputs: [f32(1, 2 * 6, 4 * 4), ints(6, 5), ints(3, 2)] },
  { name: '3-D volume', op: 'Col2Im', opset: 18, gpu: false, inputs: [f32(1, 2 * 8, 2 * 3 * 2), ints(3, 4, 3), ints(2, 2, 2)] },
  { name: '1-D, block as long as the image', op: 'Col2Im', opset: 18, gpu: false, inputs: [f32(3, 7, 1), ints(7), ints(7)] },
  { name: 'float16', op: 'Col2Im', opset: 18, gpu: false, inputs: [{ dtype: 'float16', dims: [1, 4, 9] }, ints(4, 4), ints(2, 2)], tolerance: { rtol: 2e-3, atol: 2e-3 } },
];

runOpCases('col2im', cases);

runBadInputCases('col2im', [
  { name: 'wrong position count', op: 'Col2Im', opset: 18, inputs: [f32(1, 4, 15), ints(5, 5), ints(2, 2)], error: /do not fit \[N, C \* 4, 4 \* 4\]/ },
  { name: 'channels not a multiple of the block', op: 'Col2Im', opset: 18, inputs: [f32(1, 6, 16), ints(5, 5), ints(2, 2)], error: /do not fit/ },
  { name: 'shape lengths differ', op: 'Col2Im', opset: 18, inputs: [f32(1, 4, 16), ints(5, 5), ints(4)], error: /same length/ },
  { name: 'pads length', op: 'Col2Im', opset: 18, attrs: { pads: [1, 1] }, inputs: [f32(1, 4, 16), ints(5, 5), ints(2, 2)], error: /4 pads/ },
  { name: 'block larger than the padded image', op: 'Col2Im', opset: 18, inputs: [f32(1, 36, 1), ints(5, 5), ints(6, 6)], error: /do not fit/ },
]);
