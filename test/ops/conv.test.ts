import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { runReferenceCases } from './conv-reference.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const relu = { kiln_activation: 'Relu' };
const clip = { kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 1.5] } };

// [name, X dims, W dims, attrs, bias]
type Shape = [string, number[], number[], OpCase['attrs'], boolean];
const shapes: Shape[] = [
  ['2-D 3x3 pads 1 bias', [1, 5, 9, 11], [7, 5, 3, 3], { pads: [1, 1, 1, 1] }, true],
  ['2-D no bias, no pads (no bounds checks)', [2, 3, 8, 7], [6, 3, 3, 2], {}, false],
  ['2-D stride 2, asymmetric pads', [1, 4, 10, 9], [5, 4, 3, 3], { strides: [2, 2], pads: [0, 1, 2, 1] }, true],
  ['2-D dilation 2', [1, 3, 12, 12], [4, 3, 3, 3], { dilations: [2, 2], pads: [2, 1, 2, 1] }, true],
  ['2-D stride 2 x dilation 2 kernel_shape attr', [2, 2, 11, 13], [3, 2, 3, 2], { kernel_shape: [3, 2], strides: [2, 1], dilations: [1, 2] }, false],
  ['2-D groups=2', [1, 6, 7, 9], [8, 3, 3, 3], { group: 2, pads: [1, 1, 1, 1] }, true],
  ['2-D groups=2, odd channels per group', [2, 6, 5, 5], [10, 3, 2, 2], { group: 2 }, true],
  ['2-D depthwise (group = Cin)', [1, 8, 10, 10], [8, 1, 3, 3], { group: 8, pads: [1, 1, 1, 1] }, true],
  ['2-D depthwise stride 2', [2, 6, 9, 9], [6, 1, 3, 3], { group: 6, pads: [1, 1, 1, 1], strides: [2, 2] }, false],
  ['2-D depthwise multiplier 2', [1, 4, 7, 6], [8, 1, 3, 3], { group: 4, pads: [0, 1, 1, 0] }, true],
  ['2-D depthwise 5x5, asymmetric pads', [2, 5, 11, 9], [5, 1, 5, 5], { group: 5, pads: [2, 1, 1, 2] }, true],
  ['2-D depthwise dilation 2', [1, 4, 12, 12], [4, 1, 3, 3], { group: 4, dilations: [2, 2], pads: [2, 2, 2, 2] }, false],
  ['2-D depthwise stride (2, 1), 5x5', [1, 6, 12, 10], [6, 1, 5, 5], { group: 6, strides: [2, 1], pads: [2, 2, 2, 2] }, true],
  ['2-D depthwise stride (1, 2), dilation (2, 1)', [2, 3, 9, 14], [3, 1, 3, 3], { group: 3, strides: [1, 2], dilations: [2, 1], pads: [1, 0, 2, 1] }, true],
  ['2-D depthwise stride 5 (generic form)', [1, 2, 16, 16], [2, 1, 3, 3], { group: 2, strides: [5, 5] }, true],
  ['2-D 1x1', [1, 16, 9, 9], [12, 16, 1, 1], {}, true],
  ['2-D 1x1 stride 2', [1, 8, 9, 9], [5, 8, 1, 1], { strides: [2, 2] }, false],
  ['2-D SAME_UPPER stride 2', [1, 3, 9, 8], [4, 3, 3, 4], { auto_pad: 'SAME_UPPER', strides: [2, 2] }, true],
  ['2-D SAME_LOWER', [1, 3, 7, 8], [4, 3, 4, 3], { auto_pad: 'SAME_LOWER' }, true],
  ['2-D VALID stride 3', [1, 2, 11, 10], [3, 2, 3, 3], { auto_pad: 'VALID', strides: [3, 3], pads: [1, 1, 1, 1] }, true],
  ['2-D Cout not a multiple of 4', [1, 5, 6, 6], [5, 5, 3, 3], { pads: [1, 1, 1, 1] }, true],
  ['2-D Cout 1', [2, 3, 6, 7], [1, 3, 3, 3], { pads: [1, 1, 1, 1] }, true],
  ['2-D kernel as big as the input', [1, 2, 5, 5], [3, 2, 5, 5], {}, true],
  // one output column: the tile takes one position, not a row of them (webgpu-tiles.ts)
  ['2-D 1x1 on one pixel (squeeze-excite after a global pool), batch 2', [2, 24, 1, 1], [10, 24, 1, 1], {}, true],
  ['2-D one output column, several rows', [1, 3, 7, 3], [5, 3, 3, 3], { pads: [1, 0, 1, 0] }, true],
  ['1-D one output position', [2, 3, 5], [4, 3, 5], {}, false],
  ['3-D one output position', [1, 2, 3, 3, 3], [4, 2, 3, 3, 3], {}, true],
  ['1-D', [2, 3, 17], [5, 3, 3], { pads: [1, 2] }, true],
  ['1-D stride 2 dilation 2 groups 3', [1, 6, 20], [9, 2, 3], { strides: [2], dilations: [2], group: 3 }, false],
  ['1-D SAME_UPPER', [1, 4, 13], [4, 4, 4], { auto_pad: 'SAME_UPPER' }, true],
  ['3-D', [1, 2, 5, 6, 7], [3, 2, 3, 3, 3], { pads: [1, 1, 0, 1, 1, 0] }, true],
  ['3-D stride 2 dilation 2 groups 2', [1, 4, 8, 7, 9], [4, 2, 2, 3, 2], { strides: [2, 1, 2], dilations: [2, 1, 1], group: 2, pads: [0, 1, 1, 1, 0, 1] }, true],
];

// The wasm kernel takes 1-D and 2-D float32 convs, with every fusable activation; 3-D runs js.
const convCase = ([name, x, w, attrs, bias]: Shape, extra: OpCase['attrs'] = {}, suffix = ''): OpCase => ({
  name: `${name}${suffix}`,
  op: 'Conv',
  attrs: { ...attrs, ...extra },
  inputs: [f32(x), f32(w), ...(bias ? [f32([w[0]!])] : [])],
  wasmKernel: x.length <= 4,
});

// Paths of the wasm kernel (kernels/wasm/src/conv-f32.c) the shapes above do not reach.
const wasmShapes: Shape[] = [
  ['wasm: 1x1 stride 1 unpadded (X packed directly), positions not a multiple of 8', [2, 19, 5, 7], [13, 19, 1, 1], {}, true],
  ['wasm: 3x3 64->24, several chunks with a tail', [1, 64, 14, 15], [24, 64, 3, 3], { pads: [1, 1, 1, 1] }, true],
  ['wasm: stride 2 over wide rows (strided vector im2col)', [1, 5, 9, 41], [6, 5, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, true],
  ['wasm: groups 3 batch 2 wide rows', [2, 9, 6, 23], [6, 3, 3, 3], { group: 3, pads: [1, 2, 0, 1] }, true],
  ['wasm: depthwise 3x3 wide, width tail of 5', [1, 3, 17, 29], [3, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1] }, true],
  ['wasm: depthwise 5x5 stride 2, width tail', [2, 4, 23, 27], [4, 1, 5, 5], { group: 4, strides: [2, 2], pads: [2, 2, 2, 2] }, true],
  ['wasm: depthwise 3x3 stride 2 dilation 2 asymmetric pads', [1, 3, 20, 21], [3, 1, 3, 3], { group: 3, strides: [2, 2], dilations: [2, 2], pads: [0, 3, 2, 1] }, false],
  ['wasm: depthwise 1x7 (generic taps), stride 3', [1, 2, 5, 40], [2, 1, 1, 7], { group: 2, strides: [1, 3], pads: [0, 3, 0, 3] }, true],
  ['wasm: depthwise 1-D', [2, 5, 37], [5, 1, 3], { group: 5, pads: [1, 1] }, true],
  ['wasm: depthwise 8x7 (56 taps: over the direct kernel\'s 49, the GEMM path)', [1, 3, 12, 13], [3, 1, 8, 7], { group: 3, pads: [3, 3, 4, 3] }, true],
  // 5x5 rows go two at a time (depthwise_8x2): an odd row count leaves one for the one-row form
  ['wasm: depthwise 5x5, 9 output rows, width tail', [2, 3, 9, 13], [3, 1, 5, 5], { group: 3, pads: [2, 2, 2, 2] }, true],
  ['wasm: depthwise 5x5 stride (2, 1), 7 output rows', [1, 4, 13, 19], [4, 1, 5, 5], { group: 4, strides: [2, 1], pads: [2, 2, 2, 2] }, true],
];

const cases: OpCase[] = [
  ...shapes.map((s) => convCase(s)),
  // K = 576 float32 products per output: summation order alone moves results by ~1e-5 (as ResNet-like below)
  ...wasmShapes.map((s, i) => ({ ...convCase(s), ...(i === 1 ? { tolerance: { rtol: 1e-4, atol: 1e-4 } } : {}) })),
  { ...convCase(wasmShapes[1]!, relu, ', fused Relu'), tolerance: { rtol: 1e-4, atol: 1e-4 } },
  convCase(wasmShapes[4]!, clip, ', fused Clip'),
  convCase(wasmShapes[5]!, relu, ', fused Relu'),
  convCase(wasmShapes[0]!, { kiln_activation: 'Clip', kiln_activation_params: { floats: [0, 6] } }, ', fused Clip 0..6'),
  // element counts odd (not a multiple of 4): the epilogue pass's tail
  convCase(wasmShapes[3]!, { kiln_activation: 'HardSwish' }, ', fused HardSwish'),
  convCase(wasmShapes[4]!, { kiln_activation: 'HardSigmoid', kiln_activation_params: { floats: [0.3, 0.4] } }, ', fused HardSigmoid'),
  convCase(wasmShapes[8]!, { kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.1] } }, ', fused LeakyRelu'),
  convCase(wasmShapes[0]!, { kiln_activation: 'Sigmoid' }, ', fused Sigmoid'),
  convCase(wasmShapes[5]!, { kiln_activation: 'Tanh' }, ', fused Tanh'),
  convCase(wasmShapes[10]!, clip, ', fused Clip'),
  convCase(wasmShapes[11]!, relu, ', fused Relu'),
  convCase(shapes[0]!, relu, ', fused Relu'),
  convCase(shapes[2]!, clip, ', fused Clip'),
  convCase(shapes[7]!, relu, ', fused Relu'),
  convCase(shapes[23]!, clip, ', fused Clip'),
  convCase(shapes[1]!, { kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.2] } }, ', fused LeakyRelu'),
  convCase(shapes[15]!, { kiln_activation: 'HardSigmoid', kiln_activation_params: { floats: [0.3, 0.4] } }, ', fused HardSigmoid'),
  { name: 'float16', op: 'Conv', attrs: { pads: [1, 1, 1, 1] }, inputs: [{ dtype: 'float16', dims: [1, 3, 6, 6] }, { dtype: 'float16', dims: [4, 3, 3, 3] }, { dtype: 'float16', dims: [4] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  // Each invocation computes up to 128 outputs, so a 2-D dispatch (over 65535 workgroups of 32)
  // needs outputs of ~2^28 elements, too slow for SwiftShader; the builder's split is generic (tested
  // on the elementwise, transpose, concat ... cases). This one keeps a large map (260 x 260, 35 MB of
  // output) at batch 2: batch 8 made it 47 s of CI's op cases (a quarter of the conv family) for no
  // path batch 2 does not take.
  { name: 'large', op: 'Conv', attrs: { pads: [1, 1, 1, 1] }, inputs: [f32([2, 2, 260, 260]), f32([64, 2, 3, 3]), f32([64])], tolerance: { rtol: 1e-4, atol: 1e-4 }, wasmKernel: true },
  { name: 'MobileNet-like depthwise 3x3, 32 channels', op: 'Conv', attrs: { group: 32, pads: [1, 1, 1, 1], kiln_activation: 'Clip', kiln_activation_params: { floats: [0, 6] } }, inputs: [f32([1, 32, 28, 28]), f32([32, 1, 3, 3]), f32([32])], wasmKernel: true },
  { name: 'ResNet-like 3x3 32->32', op: 'Conv', attrs: { pads: [1, 1, 1, 1] }, inputs: [f32([1, 32, 14, 14]), f32([32, 32, 3, 3]), f32([32])], tolerance: { rtol: 1e-4, atol: 1e-4 }, wasmKernel: true },
  // float64 has no GPU storage: the node runs on the CPU by design
  { name: 'float64 (CPU)', op: 'Conv', attrs: { pads: [1, 1, 1, 1] }, inputs: [{ dtype: 'float64', dims: [1, 2, 5, 5] }, { dtype: 'float64', dims: [3, 2, 3, 3] }], gpu: false },
];

runOpCases('conv', cases);

runReferenceCases(shapes.map(([name, x, w, attrs, bias]) => ({ name, x, w, bias, attrs: attrs as Record<string, number[] | number | string> })).concat([
  { name: '2-D fused Clip', x: [1, 3, 6, 6], w: [4, 3, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1], kiln_activation: 'Clip', kiln_activation_params: [-0.5, 1.5] } },
  { name: '2-D batch 3, many channels', x: [3, 40, 7, 7], w: [33, 40, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } },
]));

runBadInputCases('conv', [
  { name: 'channel mismatch', op: 'Conv', inputs: [f32([1, 3, 5, 5]), f32([4, 2, 3, 3])], error: /W has shape \[4, 2, 3, 3\], expected 3 \(input channels \/ group\) in dim 1/ },
  { name: 'group does not divide channels', op: 'Conv', attrs: { group: 2 }, inputs: [f32([1, 3, 5, 5]), f32([4, 1, 3, 3])], error: /group 2 does not divide the 3 input channels/ },
  { name: 'rank mismatch', op: 'Conv', inputs: [f32([1, 3, 5, 5]), f32([4, 3, 3])], error: /expected rank 4 like X/ },
  { name: 'bias shape', op: 'Conv', inputs: [f32([1, 3, 5, 5]), f32([4, 3, 3, 3]), f32([3])], error: /B has shape \[3\], expected \[4\]/ },
  { name: 'kernel larger than input', op: 'Conv', inputs: [f32([1, 1, 2, 2]), f32([1, 1, 3, 3])], error: /kernel \(3 with dilation\) is larger than the padded input \(2\)/ },
  { name: 'kernel_shape mismatch', op: 'Conv', attrs: { kernel_shape: [2, 2] }, inputs: [f32([1, 1, 5, 5]), f32([1, 1, 3, 3])], error: /kernel_shape \[2, 2\] does not match W's spatial dims \[3, 3\]/ },
  { name: 'bad auto_pad', op: 'Conv', attrs: { auto_pad: 'FOO' }, inputs: [f32([1, 1, 5, 5]), f32([1, 1, 3, 3])], error: /auto_pad 'FOO' is not one of/ },
  { name: 'integer input', op: 'Conv', inputs: [{ dtype: 'int32', dims: [1, 1, 5, 5] }, { dtype: 'int32', dims: [1, 1, 3, 3] }], error: /X type int32 is not one of/ },
]);
