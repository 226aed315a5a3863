import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { runReferenceCases } from './conv-reference.ts';
import { testRng } from '../helpers/random.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });

// [name, X dims, W dims (Cin, Cout/group, k...), attrs, bias]
type Shape = [string, number[], number[], OpCase['attrs'], boolean];
const shapes: Shape[] = [
  ['2-D 3x3', [1, 3, 5, 6], [3, 4, 3, 3], {}, true],
  ['2-D stride 2, pads', [2, 4, 5, 5], [4, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, true],
  ['2-D stride 2 output_padding', [1, 2, 4, 5], [2, 3, 3, 3], { strides: [2, 2], pads: [1, 0, 1, 0], output_padding: [1, 1] }, false],
  ['2-D stride 3x2 asymmetric pads', [1, 2, 4, 4], [2, 2, 3, 3], { strides: [3, 2], pads: [1, 2, 0, 1] }, true],
  ['2-D dilation 2', [1, 3, 5, 4], [3, 2, 3, 3], { dilations: [2, 2] }, true],
  ['2-D groups=2', [1, 4, 5, 5], [4, 3, 3, 3], { group: 2, strides: [2, 2] }, true],
  ['2-D depthwise (group = Cin)', [1, 6, 6, 6], [6, 1, 4, 4], { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] }, true],
  ['2-D output_shape', [1, 2, 3, 3], [2, 2, 3, 3], { strides: [3, 2], output_shape: [10, 8] }, true],
  ['2-D output_shape with N and C', [1, 2, 3, 3], [2, 2, 3, 3], { strides: [2, 2], output_shape: [1, 4, 6, 6] }, false],
  ['2-D SAME_UPPER stride 2', [1, 3, 4, 5], [3, 2, 3, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] }, true],
  ['2-D SAME_LOWER stride 2', [1, 3, 4, 5], [3, 2, 4, 3], { auto_pad: 'SAME_LOWER', strides: [2, 2] }, true],
  ['2-D VALID', [1, 2, 4, 4], [2, 3, 2, 2], { auto_pad: 'VALID', strides: [2, 2] }, true],
  ['2-D stride (4, 2), dilation (2, 3), 5x5', [1, 3, 4, 5], [3, 2, 5, 5], { strides: [4, 2], dilations: [2, 3], pads: [2, 1, 0, 2], output_padding: [1, 1] }, true],
  ['2-D stride 5 (generic form)', [1, 2, 3, 3], [2, 3, 3, 3], { strides: [5, 5] }, true],
  ['2-D 4x4 stride 2 upsampling, 32 -> 24 channels', [1, 32, 9, 11], [32, 24, 4, 4], { strides: [2, 2], pads: [1, 1, 1, 1] }, true],
  ['2-D kernel_shape attr, 1x1', [1, 8, 5, 5], [8, 6, 1, 1], { kernel_shape: [1, 1] }, true],
  ['1-D', [2, 3, 9], [3, 5, 4], { strides: [2], pads: [1, 1] }, true],
  ['1-D dilation 3 groups 3', [1, 6, 7], [6, 2, 3], { dilations: [3], group: 3 }, false],
  ['3-D', [1, 2, 3, 4, 3], [2, 3, 3, 2, 3], { strides: [2, 1, 2], pads: [1, 0, 0, 0, 1, 1] }, true],
];

const caseOf = ([name, x, w, attrs, bias]: Shape, extra: OpCase['attrs'] = {}, suffix = ''): OpCase => ({
  name: `${name}${suffix}`,
  op: 'ConvTranspose',
  attrs: { ...attrs, ...extra },
  inputs: [f32(x), f32(w), ...(bias ? [f32([w[1]! * (typeof attrs?.group === 'number' ? attrs.group : 1)])] : [])],
  // the wasm kernel (conv-transpose/wasm.ts) takes every 1-D and 2-D case; 3-D runs js
  wasmKernel: x.length <= 4,
});

// W as an initializer: the wasm kernel transposes it once at plan time (values from the run's seeded stream)
const rng = testRng('ops', 'conv-transpose', 'initializers');
const constW = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, values: Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => rng.range(-2, 2)) });

runOpCases('conv-transpose', [
  ...shapes.map((s) => caseOf(s)),
  caseOf(shapes[1]!, { kiln_activation: 'Relu' }, ', fused Relu'),
  caseOf(shapes[5]!, { kiln_activation: 'Clip', kiln_activation_params: { floats: [0, 1] } }, ', fused Clip'),
  { name: 'large', op: 'ConvTranspose', attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, inputs: [f32([1, 16, 40, 40]), f32([16, 16, 4, 4]), f32([16])], tolerance: { rtol: 1e-4, atol: 1e-4 }, wasmKernel: true },
  caseOf(shapes[12]!, { kiln_activation: 'HardSwish' }, ', fused HardSwish'),
  caseOf(shapes[16]!, { kiln_activation: 'Sigmoid' }, ', fused Sigmoid'),
  { name: 'W initializer, groups 2, stride 2, bias', op: 'ConvTranspose', attrs: { group: 2, strides: [2, 2], pads: [1, 0, 0, 1] }, inputs: [f32([2, 4, 5, 7]), constW([4, 3, 3, 3]), constW([6])], wasmKernel: true },
  { name: 'W initializer, 1-D, Relu', op: 'ConvTranspose', attrs: { strides: [3], kiln_activation: 'Relu' }, inputs: [f32([1, 5, 11]), constW([5, 2, 4])], wasmKernel: true },
]);

runReferenceCases(shapes.map(([name, x, w, attrs, bias]) => ({ name: `ConvTranspose ${name}`, transpose: true, x, w, bias, attrs: attrs as Record<string, number[] | number | string> })));

runBadInputCases('conv-transpose', [
  { name: 'channel mismatch', op: 'ConvTranspose', inputs: [f32([1, 3, 5, 5]), f32([4, 2, 3, 3])], error: /W has shape \[4, 2, 3, 3\], expected 3 \(input channels\) in dim 0/ },
  { name: 'output_padding too large', op: 'ConvTranspose', attrs: { strides: [2, 2], output_padding: [2, 0] }, inputs: [f32([1, 1, 3, 3]), f32([1, 1, 3, 3])], error: /output_padding \[2, 0\] must be >= 0 and smaller than the stride or dilation/ },
  { name: 'output_shape length', op: 'ConvTranspose', attrs: { output_shape: [5, 5, 5] }, inputs: [f32([1, 1, 3, 3]), f32([1, 1, 3, 3])], error: /output_shape \[5, 5, 5\] has 3 values, expected 2/ },
]);
