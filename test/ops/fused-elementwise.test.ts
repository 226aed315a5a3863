// kiln.FusedElementwise (written by the elementwise fusion pass): one generated kernel for a chain
// or small DAG of elementwise ops. Program format: kernels/fused-elementwise/program.ts.
import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, withHardwareTuning, type InputSpec, type OpCase } from './op-harness.ts';

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

runOpCases('fused-elementwise', [...cases, ...convCases, ...withHardwareTuning(convCases)]);

const bad = (name: string, steps: string[], inputs: InputSpec[], error: RegExp) => ({ ...fused(name, steps, [1], inputs), error });
runBadInputCases('fused-elementwise', [
  bad('an input of the wrong type', ['Relu i0'], [t('int32', [3])], /input 0 \(read as float\) has type int32/),
  bad('a ref to a later step', ['Relu s0'], [f([3])], /s0 refers past the earlier steps/),
  bad('an op it cannot run', ['Softmax i0'], [f([3])], /'Softmax' is not an op it can run/),
  bad('a param that is not a constant', ['LeakyRelu i0 i1'], [f([3]), f([3])], /ref 1 must be a constant/),
  bad('an unused input', ['Relu i0'], [f([3]), f([3])], /never reads input 1/),
  bad('shapes that do not broadcast', ['Add i0 i1'], [f([3]), f([4])], /do not broadcast/),
]);
runBadInputCases('matmul', [
  { name: 'an epilogue input that is missing', op: 'MatMul', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4])], error: /epilogue input 1 \(slot 3\) is missing/ },
  { name: 'an epilogue input of another type', op: 'MatMul', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4]), f([4]), t('int32', [2, 4])], error: /epilogue input 1 has type int32/ },
  { name: 'an epilogue input that does not broadcast', op: 'Gemm', attrs: { ...epilogue(['Add i0 i1'], []), kiln_epilogue_inputs: 1 }, inputs: [f([2, 3]), f([3, 4]), f([4]), f([3, 4])], error: /do not broadcast|broadcast/ },
]);
