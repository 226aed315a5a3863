// kiln.FusedElementwise (written by the elementwise fusion pass): one generated kernel for a chain
// or small DAG of elementwise ops. Program format: kernels/fused-elementwise/program.ts.
import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, withHardwareTuning, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

const t = (dtype: DataType, dims: number[], range?: [number, number]): InputSpec => ({ dtype, dims, ...(range ? { range } : {}) });
const f = (dims: number[], range?: [number, number]): InputSpec => t('float32', dims, range);
const fused = (name: string, steps: string[], constants: number[], inputs: InputSpec[]): OpCase => ({
  name, op: 'FusedElementwise', domain: 'kiln', attrs: { steps, constants: { floats: constants }, opset: 17 }, inputs,
});

const cases: OpCase[] = [
  // PaddleOCR v4's learnable affine blocks around HardSwish
  fused('affine HardSwish affine', ['Mul i0 k0', 'Add s0 k1', 'HardSwish s1', 'Mul k2 s2', 'Add s3 k3'], [1.384, 0.586, 0.1675, 3.47e-5], [f([1, 16, 12, 40], [-6, 6])]),
  fused('Swish as a DAG (x * Sigmoid(x))', ['Sigmoid i0', 'Mul i0 s0'], [], [f([3, 5, 7])]),
  fused('per-channel broadcast', ['Mul i0 i1', 'Add s0 i2', 'Relu s1'], [], [f([2, 4, 3, 3]), f([4, 1, 1]), f([1, 4, 1, 1])]),
  fused('three-way broadcast, rank 0', ['Sub i0 i1', 'Div s0 i2', 'Tanh s1'], [], [f([3, 1, 5]), f([4, 1]), f([], [0.5, 2])]),
  fused('Clip, LeakyRelu, HardSigmoid params', ['Clip i0 k0 k1', 'LeakyRelu s0 k2', 'HardSigmoid s1 k3 k4'], [-1.5, 2.5, 0.07, 0.3, 0.4], [f([50], [-4, 4])]),
  fused('Where with a bool condition', ['Mul i1 k0', 'Where i0 s0 i2', 'Exp s1'], [0.5], [t('bool', [4, 6]), f([4, 6]), f([6])]),
  fused('Cast int32 and bool inputs', ['Cast i0', 'Cast i1', 'Add s0 s1', 'Mul s2 i2'], [], [t('int32', [2, 8], [-5, 6]), t('bool', [8]), f([2, 8])]),
  fused('Pow, PRelu, Gelu tanh and exact', ['Pow i0 k0', 'PRelu s0 i1', 'Gelu:tanh s1', 'Gelu:none s2'], [2], [f([2, 3, 4]), f([3, 1], [0.1, 0.3])]),
  fused('NaN passes through', ['Sqrt i0', 'Clip s0 k0 k1'], [0, 1], [f([64], [-1, 1])]),
  fused('large (2-D dispatch)', ['Mul i0 k0', 'Add s0 i1'], [2], [f([2100, 2048]), f([2048])]),
];

// The same programs folded into a Conv's or MatMul's epilogue (kiln_epilogue_*: i0 is the value
// after bias and activation), in the Conv kernel's generic, row and depthwise forms and the GEMM.
const epilogue = (steps: string[], constants: number[]) => ({ kiln_epilogue_steps: steps, kiln_epilogue_constants: { floats: constants } });
const affineHardSwish = epilogue(['Mul i0 k0', 'Add s0 k1', 'HardSwish s1', 'Mul k2 s2', 'Add s3 k3'], [1.384, 0.586, 0.1675, 3.47e-5]);
const convCases: OpCase[] = [
  { name: 'Conv 3x3 epilogue, after Relu', op: 'Conv', attrs: { pads: [1, 1, 1, 1], kiln_activation: 'Relu', ...epilogue(['Sigmoid i0', 'Mul i0 s0'], []) }, inputs: [f([1, 4, 9, 11]), f([6, 4, 3, 3]), f([6])] },
  { name: 'Conv 1x1 epilogue', op: 'Conv', attrs: affineHardSwish, inputs: [f([1, 8, 6, 20]), f([16, 8, 1, 1]), f([16])] },
  { name: 'depthwise Conv epilogue', op: 'Conv', attrs: { group: 8, pads: [1, 1, 1, 1], ...affineHardSwish }, inputs: [f([1, 8, 12, 16]), f([8, 1, 3, 3]), f([8])] },
  { name: '3-D Conv epilogue (generic form)', op: 'Conv', attrs: epilogue(['Clip i0 k0 k1'], [-0.5, 0.5]), inputs: [f([1, 2, 4, 5, 6]), f([3, 2, 2, 2, 2])] },
  // MatMul: the same epilogue in the tiled GEMM's store (Swish after a MatMul in PP-OCR rec)
  { name: 'MatMul epilogue with bias and Relu', op: 'MatMul', attrs: { kiln_activation: 'Relu', ...epilogue(['Mul i0 k0', 'Sigmoid s0', 'Mul i0 s1'], [1.5]) }, inputs: [f([2, 7, 12]), f([12, 9]), f([9])] },
  { name: 'MatMul epilogue, matrix-vector', op: 'MatMul', attrs: epilogue(['Gelu:tanh i0'], []), inputs: [f([20, 16]), f([16, 1])] },
  // extra tensors from slot 3 (kiln_epilogue_inputs): BERT's residual MatMul + bias + x, a broadcast scale
  { name: 'MatMul epilogue, residual input', op: 'MatMul', attrs: { ...epilogue(['Add i1 i0'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 7, 12]), f([12, 9]), f([9]), f([2, 7, 9])] },
  { name: 'MatMul epilogue, no bias, scale and residual broadcast', op: 'MatMul', attrs: { ...epilogue(['Mul i0 i1', 'Add s0 i2'], []), kiln_epilogue_inputs: 2 }, inputs: [f([3, 5, 8]), f([8, 6]), { dtype: 'float32', dims: [], omit: true }, f([6]), f([3, 1, 6])] },
  { name: 'MatMul epilogue, matrix-vector, residual', op: 'MatMul', attrs: { ...epilogue(['Relu i0', 'Sub s0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([20, 16]), f([16, 1]), { dtype: 'float32', dims: [], omit: true }, f([20, 1])] },
  { name: 'Gemm epilogue, transB, residual and scale', op: 'Gemm', attrs: { transB: 1, alpha: 0.5, ...epilogue(['Mul i0 i2', 'Add i1 s0', 'Tanh s1'], []), kiln_epilogue_inputs: 2 }, inputs: [f([6, 10]), f([7, 10]), f([7]), f([6, 7]), f([1, 7])] },
  { name: 'Conv epilogue, residual and per-channel scale', op: 'Conv', attrs: { pads: [1, 1, 1, 1], kiln_activation: 'Relu', ...epilogue(['Mul i0 i2', 'Add s0 i1'], []), kiln_epilogue_inputs: 2 }, inputs: [f([1, 4, 9, 11]), f([6, 4, 3, 3]), f([6]), f([1, 6, 9, 11]), f([1, 6, 1, 1])] },
  { name: 'depthwise Conv epilogue, residual', op: 'Conv', attrs: { group: 8, pads: [1, 1, 1, 1], ...epilogue(['Add i0 i1', 'HardSwish s0'], []), kiln_epilogue_inputs: 1 }, inputs: [f([1, 8, 12, 16]), f([8, 1, 3, 3]), f([8]), f([1, 8, 12, 16])] },
  { name: '1x1 Conv epilogue without bias, residual', op: 'Conv', attrs: { ...epilogue(['Sub i1 i0'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 8, 6, 20]), f([16, 8, 1, 1]), { dtype: 'float32', dims: [], omit: true }, f([2, 16, 6, 20])] },
  { name: 'Gemm epilogue without C', op: 'Gemm', attrs: epilogue(['Sigmoid i0'], []), inputs: [f([5, 4]), f([4, 3])] },
];

// An activation's fake quantization (kiln.QuantizeDequantize as a program step): saturating uint8 and
// int8 ranges, a zero point, a step after another op.
const quantCases: OpCase[] = [
  fused('fake quantization, uint8 then int8, saturating', ['QuantizeDequantize i0 k0 k1 k2 k3', 'Mul s0 k4', 'QuantizeDequantize s1 k5 k6 k7 k8'], [0.02, 128, 0, 255, 1.5, 0.037, -3, -128, 127], [f([3, 50], [-4, 4])]),
];

// A final QuantizeLinear (output_dtype: the integers a quantized consumer reads), in each of the kernel's
// forms: same shape (vec4), rows broadcast (a squeeze-excite scale), a general broadcast and an odd count
// (one element per invocation). Inputs on and one float32 step either side of the halves between grid
// levels: the rounding must be QuantizeLinear's (x / s rounded to float32, then half to even) exactly.
const quantize = (steps: string[], constants: number[], type: 'uint8' | 'int8', inputs: InputSpec[], name: string): OpCase => ({
  name, op: 'FusedElementwise', domain: 'kiln', attrs: { steps, constants: { floats: constants }, opset: 17, output_dtype: type === 'uint8' ? 2 : 3 }, inputs, tolerance: { rtol: 0, atol: 0 },
});
const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);
/** v (a float32 value) and its float32 neighbours below and above */
const withNeighbours = (v: number): number[] => {
  f32bits[0] = v;
  const u = u32bits[0]!;
  const around = [u - 1, u, u + 1].map((w) => { u32bits[0] = w; return f32bits[0]!; });
  return v < 0 ? around.reverse() : around;
};
const halves = (s: number, from: number, count: number): number[] => Array.from({ length: count }, (_, i) => withNeighbours(Math.fround((from + i + 0.5) * s))).flat();
const QS = Math.fround(0.0173);
const quantizeCases: OpCase[] = [
  quantize(['QuantizeLinear i0 k0 k1 k2 k3'], [QS, 100, 0, 255], 'uint8', [{ dtype: 'float32', dims: [4 * 3 * 64], values: [...halves(QS, -110, 255), ...halves(QS, -106, 1)].slice(0, 768), feed: true }], 'QuantizeLinear store: uint8, halves and their neighbours (vec4 form)'),
  quantize(['Mul i0 k0', 'QuantizeLinear s0 k1 k2 k3 k4'], [1, QS, -7, -128, 127], 'int8', [{ dtype: 'float32', dims: [3 * 127], values: halves(QS, -125, 127), feed: true }], 'QuantizeLinear store: int8 after a step, saturating, an odd count (scalar form)'),
  quantize(['Mul i0 i1', 'QuantizeLinear s0 k0 k1 k2 k3'], [0.021, 128, 0, 255], 'uint8', [f([1, 8, 6, 8], [-3, 3]), f([1, 8, 1, 1], [0, 1])], 'squeeze-excite Mul then QuantizeLinear (rows form)'),
  quantize(['Sub i0 i1', 'Relu s0', 'QuantizeLinear s1 k0 k1 k2 k3'], [0.013, -20, -128, 127], 'int8', [f([3, 1, 5], [-2, 2]), f([4, 1], [-2, 2])], 'a general broadcast then QuantizeLinear (scalar broadcast form)'),
];

// The same step in the stores of the QDQ lowering's ops and a global pool (a unary tail), and in a
// Conv's load of X (kiln_prologue_*). The values before a stored fake quantization are exact in float32
// (dyadic inputs and weights, power-of-two scales and counts), so no summation order can move one
// across a rounding boundary: every implementation must give the reference's grid values exactly.
const rng = testRng(import.meta.url);
const dyadic = (n: number, lo: number, hi: number, denom: number): number[] => Array.from({ length: n }, () => Math.floor(lo + rng.uniform() * (hi - lo + 1)) / denom);
const ints = (n: number, lo: number, hi: number): number[] => dyadic(n, lo, hi, 1);
const fakeQuant = (s: number, z: number, lo: number, hi: number) => epilogue(['QuantizeDequantize i0 k0 k1 k2 k3'], [s, z, lo, hi]);
const exact = { rtol: 0, atol: 0 };
const none = { dtype: 'float32', dims: [0], omit: true } as const;
const hostCases: OpCase[] = [
  {
    name: 'MatMulNBits store: 4-bit, bias, uint8 fake quantization',
    op: 'MatMulNBits', domain: 'com.microsoft',
    attrs: { K: 64, N: 10, bits: 4, block_size: 32, ...fakeQuant(0.03, 120, 0, 255) },
    inputs: [
      { dtype: 'float32', dims: [3, 64], values: dyadic(3 * 64, -16, 16, 16), feed: true },
      { dtype: 'uint8', dims: [10, 2, 16], values: ints(10 * 2 * 16, 0, 255) },
      { dtype: 'float32', dims: [20], values: Array.from({ length: 20 }, (_, i) => 2 ** -(4 + (i % 3))) },
      { dtype: 'uint8', dims: [0], omit: true }, { dtype: 'int32', dims: [0], omit: true },
      { dtype: 'float32', dims: [10], values: dyadic(10, -8, 8, 8) },
    ],
    tolerance: exact,
  },
  {
    name: 'DequantConv store: int8 per channel, Relu, int8 fake quantization',
    op: 'DequantConv', domain: 'kiln',
    attrs: { pads: [1, 1, 1, 1], kiln_dq_axis: 0, kiln_dq_block_size: 0, kiln_activation: 'Relu', ...fakeQuant(0.045, -100, -128, 127) },
    inputs: [
      { dtype: 'float32', dims: [1, 3, 7, 9], values: dyadic(3 * 63, -16, 16, 16), feed: true },
      { dtype: 'int8', dims: [5, 3, 3, 3], values: ints(5 * 27, -128, 127) },
      { dtype: 'float32', dims: [5], values: dyadic(5, -8, 8, 4) },
      { dtype: 'float32', dims: [5], values: [2 ** -7, 2 ** -6, 2 ** -8, 2 ** -7, 2 ** -6] },
      none,
    ],
    tolerance: exact,
  },
  {
    name: 'GlobalAveragePool store: uint8 fake quantization',
    op: 'GlobalAveragePool',
    attrs: fakeQuant(0.011, 7, 0, 255),
    inputs: [{ dtype: 'float32', dims: [2, 6, 4, 8], values: dyadic(2 * 6 * 32, -32, 64, 32), feed: true }],
    tolerance: exact,
  },
];
const prologue = (s: number, z: number, lo: number, hi: number) => ({ kiln_prologue_steps: ['QuantizeDequantize i0 k0 k1 k2 k3'], kiln_prologue_constants: { floats: [s, z, lo, hi] } });
const loadCases: OpCase[] = [
  // padded taps read 0, not the program of 0 (z != 0 would not move it, but the rule is the kernel's)
  { name: 'Conv load: uint8 fake quantization of X, pads, with an epilogue too', op: 'Conv', attrs: { pads: [1, 1, 1, 1], ...prologue(0.05, 128, 0, 255), ...epilogue(['Sigmoid i0'], []) }, inputs: [f([1, 3, 8, 10], [-8, 8]), f([4, 3, 3, 3]), f([4])] },
  { name: 'depthwise Conv load: int8 fake quantization of X', op: 'Conv', attrs: { group: 6, pads: [1, 1, 1, 1], ...prologue(0.02, 3, -128, 127) }, inputs: [f([1, 6, 9, 12], [-3, 3]), f([6, 1, 3, 3]), f([6])] },
  {
    name: 'DequantConv load and store: the model input quantized, the output fake-quantized',
    op: 'DequantConv', domain: 'kiln',
    attrs: { kiln_dq_axis: 0, kiln_dq_block_size: 0, ...prologue(2 ** -5, 128, 0, 255), ...fakeQuant(0.07, 0, 0, 255) },
    inputs: [
      { dtype: 'float32', dims: [1, 1, 10, 10], range: [-1, 5] },
      { dtype: 'int8', dims: [4, 1, 3, 3], values: ints(4 * 9, -128, 127) },
      { dtype: 'float32', dims: [4], values: dyadic(4, -8, 8, 4) },
      { dtype: 'float32', dims: [4], values: [2 ** -7, 2 ** -6, 2 ** -8, 2 ** -7] },
      none,
    ],
    // x / 2^-5 is exact and the grid value (q - 128) / 32 dyadic: the conv's sums are exact too
    tolerance: exact,
  },
];

runOpCases('fused-elementwise', [...cases, ...quantCases, ...quantizeCases, ...convCases, ...withHardwareTuning(convCases), ...hostCases, ...loadCases, ...withHardwareTuning([...hostCases, ...loadCases])]);

const bad = (name: string, steps: string[], inputs: InputSpec[], error: RegExp) => ({ ...fused(name, steps, [1], inputs), error });
runBadInputCases('fused-elementwise', [
  bad('an input of the wrong type', ['Relu i0'], [t('int32', [3])], /input 0 \(read as float\) has type int32/),
  bad('a ref to a later step', ['Relu s0'], [f([3])], /s0 refers past the earlier steps/),
  bad('an op it cannot run', ['Softmax i0'], [f([3])], /'Softmax' is not an op it can run/),
  bad('a param that is not a constant', ['LeakyRelu i0 i1'], [f([3]), f([3])], /ref 1 must be a constant/),
  bad('an unused input', ['Relu i0'], [f([3]), f([3])], /never reads input 1/),
  bad('shapes that do not broadcast', ['Add i0 i1'], [f([3]), f([4])], /do not broadcast/),
]);
runBadInputCases('fused-elementwise fake quantization', [
  bad('a scale that is not a constant', ['QuantizeDequantize i0 i1 k0 k0 k0'], [f([3]), f([1])], /ref 1 must be a constant/),
  bad('a missing range', ['QuantizeDequantize i0 k0 k0'], [f([3])], /QuantizeDequantize takes 5 refs, got 3/),
  { name: 'an extra epilogue tensor on an op whose later slots are its own', op: 'GlobalAveragePool', attrs: { ...fakeQuant(0.1, 0, 0, 255), kiln_epilogue_inputs: 1 }, inputs: [f([1, 2, 3, 3])], error: /reads no extra tensors/ },
  { name: 'a load prologue over a non-float X', op: 'Conv', attrs: prologue(0.1, 0, 0, 255), inputs: [t('float16', [1, 1, 3, 3]), t('float16', [1, 1, 1, 1])], error: /load prologue reads float32 X/ },
]);
const quantizeAttrs = (steps: string[], constants: number[], outputDtype?: number) => ({ steps, constants: { floats: constants }, opset: 17, ...(outputDtype ? { output_dtype: outputDtype } : {}) });
runBadInputCases('fused-elementwise quantized output', [
  { name: 'QuantizeLinear before another step', op: 'FusedElementwise', domain: 'kiln', attrs: quantizeAttrs(['QuantizeLinear i0 k0 k1 k1 k2', 'Relu s0'], [0.1, 0, 255], 2), inputs: [f([3])], error: /QuantizeLinear is only the last step/ },
  { name: 'QuantizeLinear without output_dtype', op: 'FusedElementwise', domain: 'kiln', attrs: quantizeAttrs(['QuantizeLinear i0 k0 k1 k1 k2'], [0.1, 0, 255]), inputs: [f([3])], error: /QuantizeLinear is only the last step of a program with an integer output_dtype/ },
  { name: 'an integer output_dtype without QuantizeLinear', op: 'FusedElementwise', domain: 'kiln', attrs: quantizeAttrs(['Relu i0'], [], 2), inputs: [f([3])], error: /must end in a QuantizeLinear step/ },
  { name: 'a range wider than the type', op: 'FusedElementwise', domain: 'kiln', attrs: quantizeAttrs(['QuantizeLinear i0 k0 k1 k2 k3'], [0.1, 0, -1, 255], 2), inputs: [f([3])], error: /range -1\.\.255 does not fit uint8/ },
  { name: 'an output_dtype no step stores', op: 'FusedElementwise', domain: 'kiln', attrs: quantizeAttrs(['Relu i0'], [], 6), inputs: [f([3])], error: /output_dtype int32 is not float32, uint8, int8, uint16 or int16/ },
]);
runBadInputCases('matmul', [
  { name: 'an epilogue input that is missing', op: 'MatMul', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4])], error: /epilogue input 1 \(slot 3\) is missing/ },
  { name: 'an epilogue input of another type', op: 'MatMul', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4]), f([4]), t('int32', [2, 4])], error: /epilogue input 1 has type int32/ },
  { name: 'an epilogue input that does not broadcast', op: 'Gemm', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4]), f([4]), f([3, 4])], error: /do not broadcast|broadcast/ },
]);
