// QLinearConv: WebGPU vs the CPU reference, exact 8-bit results.
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import type { WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { Tensor } from '../../core/tensor.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const EXACT = { rtol: 0, atol: 0 };
const u8 = (dims: number[], range: [number, number] = [0, 256]): InputSpec => ({ dtype: 'uint8', dims, range });
const i8 = (dims: number[], range: [number, number] = [-128, 128]): InputSpec => ({ dtype: 'int8', dims, range });
const sc = (dims: number[], range: [number, number] = [0.01, 0.03]): InputSpec => ({ dtype: 'float32', dims, range });
const c = (dtype: 'float32' | 'uint8' | 'int8' | 'int32', dims: number[], values: number[]): InputSpec => ({ dtype, dims, values });
const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
const floats = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + rng.uniform() * (hi - lo));
// inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
const q = (name: string, inputs: InputSpec[], attrs: Record<string, WriterAttribute> = {}): OpCase => ({ name, op: 'QLinearConv', opset: 10, inputs, attrs, tolerance: EXACT });

const cases: OpCase[] = [
  q('uint8 per-tensor, fed parameters', [u8([1, 3, 8, 8]), sc([]), u8([]), u8([4, 3, 3, 3]), sc([]), u8([]), sc([], [0.2, 0.6]), u8([])]),
  q('int8, [1]-shaped w parameters, pads', [i8([2, 4, 6, 7]), sc([]), i8([], [-5, 5]), i8([5, 4, 3, 3]), sc([1]), i8([1], [-3, 3]), sc([], [0.1, 0.4]), i8([], [-10, 10])], { pads: [1, 1, 1, 1] }),
  q('uint8 x, int8 y', [u8([1, 2, 5, 5]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([], [0.1, 0.3]), i8([])]),
  // the usual quantized conv: packed int8 weights, per-channel constant scales, int32 bias
  q('packed int8 weights, per-channel scales, bias', [u8([1, 6, 9, 9]), c('float32', [], [0.02]), c('uint8', [], [128]), { dtype: 'int8', dims: [10, 6, 3, 3], values: ints(540, -128, 128) }, c('float32', [10], floats(10, 0.002, 0.01)), c('int8', [10], new Array<number>(10).fill(0)), c('float32', [], [0.2]), c('uint8', [], [100]), c('int32', [10], ints(10, -3000, 3000))], { pads: [1, 1, 1, 1], strides: [2, 2] }),
  q('depthwise with fed bias', [u8([1, 8, 7, 7]), sc([]), u8([]), u8([8, 1, 3, 3]), sc([8]), u8([8]), sc([], [0.05, 0.2]), u8([]), { dtype: 'int32', dims: [8], range: [-2000, 2000] }], { group: 8, auto_pad: 'SAME_UPPER' }),
  q('1-D, dilation', [i8([2, 3, 16]), sc([]), i8([]), i8([4, 3, 3]), sc([]), i8([]), sc([], [0.1, 0.3]), i8([])], { dilations: [2] }),
  // im2col's vector loads (kiln_im2col_s16): rows wide enough for 8 outputs inside the input, strides 1 and 2, both signs, pads
  q('im2col stride 2, uint8, wide rows, pads, onnxruntime rounding', [u8([1, 3, 11, 40]), c('float32', [], [0.02]), c('uint8', [], [121]), { dtype: 'int8', dims: [5, 3, 3, 3], values: ints(135, -128, 128) }, c('float32', [5], floats(5, 0.002, 0.01)), c('int8', [5], new Array<number>(5).fill(0)), c('float32', [], [0.1]), c('uint8', [], [110])], { pads: [1, 1, 1, 1], strides: [2, 2], kiln_ort_requant: 1 }),
  q('im2col stride 1 and 2, int8, dilation 2 across, wide rows', [i8([2, 2, 9, 37]), sc([]), i8([], [-6, 6]), i8([3, 2, 3, 2]), sc([]), i8([]), sc([], [0.2, 0.5]), i8([])], { pads: [0, 2, 1, 1], strides: [1, 2], dilations: [1, 2] }),
  q('im2col stride 1, int8, wide rows', [i8([1, 2, 6, 29]), sc([]), i8([], [-6, 6]), i8([4, 2, 2, 3]), sc([]), i8([]), sc([], [0.2, 0.5]), i8([])], { pads: [1, 1, 0, 1] }),
  // power-of-two multiplier (0.5 * 0.25 / 1): acc * m lands on exact halves, which round to even
  q('ties to even', [i8([1, 2, 5, 5], [-10, 10]), c('float32', [], [0.5]), c('int8', [], [0]), i8([3, 2, 2, 2], [-10, 10]), c('float32', [], [0.25]), c('int8', [], [0]), c('float32', [], [1]), i8([], [-3, 3])]),
  // the wasm depthwise kernel: stride 1 / 2 vector paths, stride 3 scalar, odd widths (8-wide tails), dilation, exact and MLAS rounding
  q('depthwise stride 2, int8, per-channel constants, bias, wide rows', [i8([2, 5, 9, 21]), c('float32', [], [0.03]), c('int8', [], [-3]), { dtype: 'int8', dims: [5, 1, 3, 3], values: ints(45, -128, 128) }, c('float32', [5], floats(5, 0.002, 0.01)), c('int8', [5], ints(5, -4, 4)), c('float32', [], [0.15]), c('int8', [], [5]), c('int32', [5], ints(5, -3000, 3000))], { group: 5, pads: [1, 1, 1, 1], strides: [2, 2] }),
  q('depthwise stride 3, 5x5, dilation 2, fed parameters', [u8([1, 3, 17, 19]), sc([]), u8([]), u8([3, 1, 5, 5]), sc([3]), u8([3]), sc([], [0.2, 0.6]), u8([])], { group: 3, pads: [4, 3, 4, 3], strides: [3, 3], dilations: [2, 2] }),
  // two taps per dot product (strides 1 and 2, no dilation across): odd and even kernel widths
  q('depthwise 5x5 stride 1, onnxruntime rounding', [u8([1, 3, 9, 23]), sc([]), u8([]), { dtype: 'int8', dims: [3, 1, 5, 5], values: ints(75, -128, 128) }, c('float32', [3], floats(3, 0.002, 0.01)), c('int8', [3], [0, 0, 0]), sc([], [0.05, 0.1]), u8([])], { group: 3, pads: [2, 2, 2, 2], kiln_ort_requant: 1 }),
  q('depthwise 2x4 stride 2 and 1, dilation 2 down', [i8([1, 2, 12, 18]), c('float32', [], [0.03]), c('int8', [], [2]), { dtype: 'int8', dims: [2, 1, 2, 4], values: ints(16, -128, 128) }, c('float32', [2], floats(2, 0.002, 0.01)), c('int8', [2], [1, -2]), c('float32', [], [0.1]), c('int8', [], [-3])], { group: 2, pads: [1, 2, 0, 1], strides: [2, 1], dilations: [2, 1] }),
  q('depthwise, onnxruntime rounding (kiln_ort_requant)', [u8([1, 4, 11, 13]), sc([]), u8([]), { dtype: 'int8', dims: [4, 1, 3, 3], values: ints(36, -128, 128) }, c('float32', [4], floats(4, 0.002, 0.01)), c('int8', [4], [0, 0, 0, 0]), sc([], [0.02, 0.05]), u8([])], { group: 4, pads: [1, 1, 1, 1], kiln_ort_requant: 1 }),
  q('1x1, onnxruntime rounding (kiln_ort_requant)', [u8([1, 12, 5, 7]), sc([]), u8([]), { dtype: 'int8', dims: [9, 12, 1, 1], values: ints(108, -128, 128) }, c('float32', [9], floats(9, 0.002, 0.01)), c('int8', [9], new Array<number>(9).fill(0)), sc([], [0.05, 0.1]), u8([]), c('int32', [9], ints(9, -3000, 3000))], { kiln_ort_requant: 1 }),
  // 1x1 over packed constant weights, cin per group a multiple of 4: one u32 word per four input channels
  q('1x1, packed uint8 weights, 2 groups of 8 channels, per-channel zero points, stride 2', [u8([2, 16, 7, 9]), c('float32', [], [0.02]), c('uint8', [], [121]), { dtype: 'uint8', dims: [6, 8, 1, 1], values: ints(48, 0, 256) }, c('float32', [6], floats(6, 0.002, 0.01)), c('uint8', [6], ints(6, 120, 136)), c('float32', [], [0.03]), c('uint8', [], [128]), c('int32', [6], ints(6, -3000, 3000))], { group: 2, strides: [2, 2] }),
  q('1x1, packed int8 weights, 20 channels, pads (the word loop and x bounds checks), saturating', [i8([1, 20, 5, 6]), c('float32', [], [0.05]), c('int8', [], [3]), { dtype: 'int8', dims: [11, 20, 1, 1], values: ints(220, -128, 128) }, c('float32', [11], floats(11, 0.004, 0.02)), c('int8', [11], ints(11, -5, 5)), c('float32', [], [0.01]), c('int8', [], [-2])], { pads: [1, 0, 0, 2] }),
  // the depthwise form (conv-integer/webgpu-dw.ts): depth multipliers, odd channel counts, saturating outputs, baked strides and dilations
  q('depthwise multiplier 3, 5 groups, packed weights, per-channel zero points, saturating', [u8([3, 5, 11, 13]), c('float32', [], [0.05]), c('uint8', [], [119]), { dtype: 'int8', dims: [15, 1, 3, 3], values: ints(135, -128, 128) }, c('float32', [15], floats(15, 0.004, 0.02)), c('int8', [15], ints(15, -6, 6)), c('float32', [], [0.004]), c('uint8', [], [128]), c('int32', [15], ints(15, -3000, 3000))], { group: 5, pads: [2, 0, 1, 1] }),
  q('depthwise multiplier 2, 7x1, stride (2, 1), dilation (1, 3), fed uint8 parameters', [u8([1, 3, 23, 10]), sc([]), u8([]), u8([6, 1, 7, 1]), sc([6]), u8([6]), sc([], [0.1, 0.3]), u8([])], { group: 3, pads: [3, 2, 3, 1], strides: [2, 1], dilations: [1, 3] }),
  q('depthwise 3x3 stride 4 dilation 4, int8, onnxruntime rounding', [i8([1, 7, 30, 29]), c('float32', [], [0.02]), c('int8', [], [-7]), { dtype: 'int8', dims: [7, 1, 3, 3], values: ints(63, -128, 128) }, c('float32', [7], floats(7, 0.002, 0.01)), c('int8', [7], new Array<number>(7).fill(0)), sc([], [0.02, 0.05]), i8([])], { group: 7, pads: [4, 4, 4, 4], strides: [4, 4], dilations: [4, 4], kiln_ort_requant: 1 }),
  // plan-time multipliers (constant scales, padded to a power of two in the uniforms) and the unrolled
  // MLAS epilogue: 20 channels = a full and a partial 16-channel tile; odd positions leave a partial position tile
  q('1x1, 20 channels, constant per-channel scales, bias, onnxruntime rounding, partial tiles', [u8([1, 8, 5, 3]), c('float32', [], [0.03]), c('uint8', [], [131]), { dtype: 'int8', dims: [20, 8, 1, 1], values: ints(160, -128, 128) }, c('float32', [20], floats(20, 0.002, 0.02)), c('int8', [20], new Array<number>(20).fill(0)), c('float32', [], [0.05]), c('uint8', [], [120]), c('int32', [20], ints(20, -3000, 3000))], { kiln_ort_requant: 1 }),
  q('3x3, 20 channels, constant per-tensor scales, exact rounding (the loop epilogue)', [i8([1, 3, 6, 7]), c('float32', [], [0.04]), c('int8', [], [-4]), { dtype: 'int8', dims: [20, 3, 3, 3], values: ints(540, -128, 128) }, c('float32', [], [0.006]), c('int8', [], [2]), c('float32', [], [0.3]), c('int8', [], [6]), c('int32', [20], ints(20, -3000, 3000))], { pads: [1, 1, 1, 1] }),
  // On software adapters QLinearConv runs the float Conv's program over integer-valued floats while its
  // partial sums stay below 2^24 (kernels/qlinear-conv/float-exact.ts). Here x = 255 times 520 weights of
  // 127 climbs to 16.8 M before 520 weights of -127 bring it back to exactly 0 (y = 0 + 128): f32 sums
  // round above 2^24 (a forced float program gave other answers), so the bound must send this to the i32 kernel
  q('1x1 1040 -> 4, partial sums past 2^24 that cancel: past the float bound', [u8([1, 1040, 2, 3], [255, 256]), c('float32', [], [1]), c('uint8', [], [0]), { dtype: 'int8', dims: [4, 1040, 1, 1], values: Array.from({ length: 4 * 1040 }, (_, k) => (k % 1040 < 520 ? 127 : -127)) }, c('float32', [], [1]), c('int8', [], [0]), c('float32', [], [1]), c('uint8', [], [128])], { kiln_ort_requant: 1 }),
  q('larger', [u8([1, 16, 16, 16]), sc([]), u8([]), i8([24, 16, 3, 3]), sc([]), i8([]), sc([], [0.5, 1.5]), u8([])], { pads: [1, 1, 1, 1] }),
];

// The WebGPU QDQ fusion's folded ops (kernels/qlinear-conv/fused-io.ts): a QuantizeLinear on x's
// load (x float32), a QLinearLookup table and a DequantizeLinear in the store. The reference runs
// the separate ops' references; the wasm kernel declines these nodes (they run js).
const table = (dtype: 'uint8' | 'int8' | 'float32'): Tensor<'uint8'> | Tensor<'int8'> | Tensor<'float32'> =>
  dtype === 'uint8' ? new Tensor('uint8', Uint8Array.from(ints(256, 0, 256)), [256])
    : dtype === 'int8' ? new Tensor('int8', Int8Array.from(ints(256, -128, 128)), [256]) : new Tensor('float32', Float32Array.from(floats(256, -4, 4)), [256]);
const fx = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-3, 3] });
const fused: OpCase[] = [
  q('folded Q on x (pads: padding stays the zero point), uint8 table', [fx([1, 3, 7, 8]), c('float32', [], [0.025]), c('uint8', [], [120]), i8([5, 3, 3, 3]), sc([5]), i8([5], [0, 1]), sc([], [0.1, 0.3]), u8([], [100, 140])], { pads: [1, 1, 1, 1], kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_lookup_table: table('uint8') }),
  q('folded Q on x, int8, depthwise, exact rounding, dequantized output', [fx([2, 4, 6, 6]), c('float32', [], [0.03]), c('int8', [], [-4]), i8([4, 1, 3, 3]), sc([]), i8([]), sc([], [0.1, 0.3]), i8([], [-5, 5])], { group: 4, pads: [1, 1, 1, 1], kiln_quantize_x: 1, kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.0173), []), kiln_dequantize_zero_point: new Tensor('int8', Int8Array.of(3), []) }),
  q('int8 table then dequantized output, bias', [i8([1, 6, 5, 5]), sc([]), i8([]), i8([4, 6, 1, 1]), sc([4]), i8([4], [0, 1]), sc([], [0.2, 0.4]), i8([]), c('int32', [4], ints(4, -500, 500))], { kiln_ort_requant: 1, kiln_lookup_table: table('int8'), kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.051), []) }),
  // x read many times (16 output channels x 9 taps over 8192 elements): quantized once by a program of its own, then the conv
  q('folded Q on a large x (a quantize program first), uint8 table', [fx([1, 8, 32, 32]), c('float32', [], [0.02]), c('uint8', [], [131]), i8([16, 8, 3, 3]), sc([16]), i8([16], [0, 1]), sc([], [0.2, 0.4]), u8([], [120, 136])], { pads: [1, 1, 1, 1], kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_lookup_table: table('uint8') }),
  // an odd element count: the quantize program's one-element-per-invocation form (vec4 above)
  q('folded Q on a large x of odd size (a quantize program first, scalar form)', [fx([1, 9, 33, 31]), c('float32', [], [0.02]), c('uint8', [], [131]), i8([16, 9, 3, 3]), sc([16]), i8([16], [0, 1]), sc([], [0.2, 0.4]), u8([], [120, 136])], { pads: [1, 1, 1, 1], kiln_ort_requant: 1, kiln_quantize_x: 1 }),
  q('folded Q on a large depthwise x (a quantize program first), multiplier 2, table', [fx([1, 9, 40, 48]), c('float32', [], [0.02]), c('uint8', [], [131]), i8([18, 1, 3, 3]), sc([18]), i8([18], [0, 1]), sc([], [0.1, 0.3]), u8([], [120, 136])], { group: 9, pads: [1, 1, 1, 1], kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_lookup_table: table('uint8') }),
  q('folded Q on one pixel (squeeze conv after a global pool), uint8 table', [fx([1, 24, 1, 1]), c('float32', [], [0.025]), c('uint8', [], [120]), i8([10, 24, 1, 1]), sc([10]), i8([10], [0, 1]), sc([], [0.1, 0.3]), u8([], [100, 140]), c('int32', [10], ints(10, -500, 500))], { kiln_ort_requant: 1, kiln_quantize_x: 1, kiln_lookup_table: table('uint8') }),
  q('float table (the result stays float)', [u8([1, 3, 6, 5]), sc([]), u8([]), u8([2, 3, 3, 3]), sc([]), u8([]), sc([], [0.3, 0.6]), u8([])], { kiln_lookup_table: table('float32') }),
  q('uint8 dequantized output with a zero point, stride 2', [u8([1, 5, 9, 9]), sc([]), u8([]), i8([6, 5, 3, 3]), sc([6]), i8([6], [0, 1]), sc([], [0.5, 1]), u8([])], { strides: [2, 2], kiln_ort_requant: 1, kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.0421), []), kiln_dequantize_zero_point: new Tensor('uint8', Uint8Array.of(131), []) }),
];

// every case but these runs the wasm kernel itself (kernels/wasm/gemm-s8.ts declines 3-D convs)
const WASM_DECLINES = new Set<string>([]);
runOpCases('qlinear-conv', [...cases.map((c) => (WASM_DECLINES.has(c.name) ? c : { ...c, wasmKernel: true })), ...fused]);

const addParams = new Tensor('float32', Float32Array.of(0.1, 128, 0.2, 120, 0.3, 125), [6]);
runBadInputCases('qlinear-conv', [
  { name: 'bias of the wrong length', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([]), { dtype: 'int32', dims: [2], range: [0, 9] }], error: /B has shape \[2\], expected \[3\]/ },
  { name: 'w_scale of the wrong length', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([4]), u8([]), sc([]), u8([])], error: /w_scale has shape \[4\], expected a scalar or \[3\]/ },
  { name: 'folded QuantizeLinear on an x that is not float32', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_quantize_x: 1 }, error: /kiln_quantize_x needs a float32 x and an x_zero_point/ },
  { name: 'float bias', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([]), sc([3])], error: /B type float32 is not one of int32/ },
  // the WebGPU pass's folded QLinearAdd (fused-io.ts): its attribute and its operand come together
  { name: 'a folded bias (QLinearMatMul\'s)', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_dequantize_scale: new Tensor('float32', Float32Array.of(0.05), []), kiln_dequantize_bias: new Tensor('float32', new Float32Array(3), [3]) }, error: /kiln_dequantize_bias is QLinearMatMul's/ },
  { name: 'folded QLinearAdd without its operand', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([])], attrs: { kiln_add_params: addParams }, error: /kiln_add_params needs input 10/ },
  { name: 'an operand at input 10 without the folded QLinearAdd', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([]), { ...u8([]), omit: true }, { ...u8([]), omit: true }, u8([1, 3, 3, 3])], error: /more than 9 inputs/ },
  { name: 'folded QLinearAdd operand of another type', op: 'QLinearConv', opset: 10, inputs: [u8([1, 2, 4, 4]), sc([]), u8([]), u8([3, 2, 2, 2]), sc([]), u8([]), sc([]), u8([]), { ...u8([]), omit: true }, { ...u8([]), omit: true }, i8([1, 3, 3, 3])], attrs: { kiln_add_params: addParams }, error: /folded QLinearAdd's operand is int8, the output uint8/ },
]);
