import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const t = (dtype: DataType, dims: number[], range?: [number, number]): InputSpec => ({ dtype, dims, ...(range ? { range } : {}) });
const f32 = (dims: number[], range?: [number, number]): InputSpec => t('float32', dims, range);

// Each op over its natural domain; [-4, 4) reaches the saturating parts of the activations.
const FLOAT_OPS: [string, [number, number]][] = [
  ['Relu', [-4, 4]], ['LeakyRelu', [-4, 4]], ['Sigmoid', [-12, 12]], ['Tanh', [-6, 6]], ['Gelu', [-6, 6]], ['Erf', [-3, 3]],
  ['Sqrt', [0, 9]], ['Exp', [-8, 8]], ['Log', [0.01, 50]], ['Abs', [-4, 4]], ['Neg', [-4, 4]], ['HardSigmoid', [-4, 4]],
  ['HardSwish', [-5, 5]], ['Reciprocal', [0.2, 4]], ['Floor', [-4, 4]], ['Ceil', [-4, 4]], ['Round', [-4, 4]], ['Sign', [-4, 4]],
  ['Sin', [-6, 6]], ['Cos', [-6, 6]], ['Tan', [-1.4, 1.4]], ['Asin', [-0.99, 0.99]], ['Acos', [-0.99, 0.99]], ['Atan', [-6, 6]],
  ['Sinh', [-4, 4]], ['Cosh', [-4, 4]], ['Asinh', [-6, 6]], ['Acosh', [1.01, 8]], ['Atanh', [-0.95, 0.95]], ['Softplus', [-20, 20]],
  ['Softsign', [-6, 6]], ['Elu', [-4, 4]], ['Selu', [-4, 4]], ['Celu', [-4, 4]], ['ThresholdedRelu', [-3, 3]], ['Mish', [-8, 8]],
];

const cases: OpCase[] = [
  ...FLOAT_OPS.map(([op, range]): OpCase => ({ name: `${op} float32`, op, inputs: [f32([3, 17, 5], range)] })),
  // near 0, where exp/log based builtins lose relative precision
  { name: 'Sin large arguments', op: 'Sin', inputs: [f32([300], [-200, 200])] },
  { name: 'Cos near pi/2', op: 'Cos', inputs: [f32([300], [1.5, 1.65])], tolerance: { rtol: 1e-4, atol: 1e-7 } },
  ...['Tanh', 'Sin', 'Tan', 'Asin', 'Atan', 'Sinh', 'Asinh', 'Atanh', 'Erf', 'Gelu', 'Elu', 'Softplus', 'Mish'].map((op): OpCase => ({ name: `${op} near zero`, op, inputs: [f32([257], [-0.02, 0.02])], tolerance: { rtol: 1e-4, atol: 1e-9 } })),
  // special values: infinities, NaN, zeros of both signs, out-of-domain arguments
  ...FLOAT_OPS.map(([op]): OpCase => ({
    name: `${op} special values`, op, inputs: [{ dtype: 'float32', dims: [9], values: [0, -0, -1, Infinity, -Infinity, NaN, 100, -100, 1], feed: true }],
  })),
  // the same special values in the vec4 form (12 elements: three vec4 loads, each lane's math)
  ...FLOAT_OPS.map(([op]): OpCase => ({
    name: `${op} special values vec4 form`, op, inputs: [{ dtype: 'float32', dims: [3, 4], values: [0, -0, -1, Infinity, -Infinity, NaN, 100, -100, 1, 0.5, -2.5, 3], feed: true }],
  })),
  { name: 'Clip fed bounds vec4 form', op: 'Clip', inputs: [f32([4, 16]), f32([]), f32([], [1, 2])] },
  { name: 'Not vec4 form', op: 'Not', inputs: [t('bool', [4, 8])] },
  { name: 'Neg int8 vec4 form wraps -128', op: 'Neg', inputs: [{ dtype: 'int8', dims: [4], values: [-128, 127, 0, -5], feed: true }] },
  { name: 'Relu rank 0', op: 'Relu', inputs: [f32([])] },
  { name: 'Exp rank 1', op: 'Exp', inputs: [f32([1])] },
  { name: 'Sigmoid float16', op: 'Sigmoid', inputs: [t('float16', [4, 33], [-6, 6])], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  { name: 'Round halves', op: 'Round', inputs: [{ dtype: 'float32', dims: [8], values: [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -3.5001], feed: true }] },
  { name: 'Relu large (2-D dispatch)', op: 'Relu', inputs: [f32([2100, 2048])] },
  { name: 'LeakyRelu alpha', op: 'LeakyRelu', attrs: { alpha: 0.3 }, inputs: [f32([40])] },
  { name: 'HardSigmoid alpha beta', op: 'HardSigmoid', attrs: { alpha: 0.4, beta: 0.3 }, inputs: [f32([40], [-4, 4])] },
  { name: 'Elu alpha', op: 'Elu', attrs: { alpha: 2.5 }, inputs: [f32([40])] },
  { name: 'Selu alpha gamma', op: 'Selu', attrs: { alpha: 2, gamma: 3 }, inputs: [f32([40])] },
  { name: 'Celu alpha', op: 'Celu', attrs: { alpha: 0.7 }, inputs: [f32([40])] },
  { name: 'ThresholdedRelu alpha', op: 'ThresholdedRelu', attrs: { alpha: 0.25 }, inputs: [f32([40])] },
  { name: 'Shrink default (hard, lambd 0.5)', op: 'Shrink', inputs: [f32([3, 40], [-2, 2])] },
  { name: 'Shrink soft (lambd and bias)', op: 'Shrink', attrs: { lambd: 1.25, bias: 1.25 }, inputs: [f32([3, 40], [-3, 3])] },
  { name: 'Shrink special values', op: 'Shrink', inputs: [{ dtype: 'float32', dims: [7], values: [0.5, -0.5, 0.50001, Infinity, -Infinity, NaN, 0], feed: true }] },
  { name: 'Swish default alpha', op: 'Swish', opset: 24, inputs: [f32([3, 40], [-8, 8])] },
  { name: 'Swish alpha', op: 'Swish', opset: 24, attrs: { alpha: { float: 1.702 } }, inputs: [f32([3, 40], [-8, 8])] },
  { name: 'Gelu tanh', op: 'Gelu', opset: 20, attrs: { approximate: 'tanh' }, inputs: [f32([6, 40], [-6, 6])] },
  { name: 'Gelu none', op: 'Gelu', opset: 20, attrs: { approximate: 'none' }, inputs: [f32([6, 40], [-6, 6])] },
  { name: 'com.microsoft Gelu', op: 'Gelu', domain: 'com.microsoft', inputs: [f32([6, 40], [-6, 6])] },
  { name: 'Relu int32', op: 'Relu', inputs: [t('int32', [30])] },
  { name: 'Abs int8', op: 'Abs', inputs: [t('int8', [30], [-128, 128])] },
  { name: 'Neg int8 wraps -128', op: 'Neg', inputs: [{ dtype: 'int8', dims: [3], values: [-128, 127, 0], feed: true }] },
  { name: 'Neg int64', op: 'Neg', inputs: [t('int64', [30])] },
  { name: 'Sign int32', op: 'Sign', inputs: [t('int32', [30])] },
  { name: 'Sign uint8', op: 'Sign', inputs: [t('uint8', [30], [0, 4])] },
  { name: 'Not', op: 'Not', inputs: [t('bool', [5, 7])], wasmKernel: true },
  { name: 'BitwiseNot int32', op: 'BitwiseNot', opset: 18, inputs: [t('int32', [30], [-1000, 1000])] },
  { name: 'BitwiseNot uint8', op: 'BitwiseNot', opset: 18, inputs: [t('uint8', [30], [0, 256])] },
  { name: 'BitwiseNot uint16', op: 'BitwiseNot', opset: 18, inputs: [t('uint16', [30], [0, 65536])] },
  { name: 'IsNaN', op: 'IsNaN', inputs: [{ dtype: 'float32', dims: [5], values: [NaN, 1, Infinity, -Infinity, 0], feed: true }] },
  { name: 'IsInf', op: 'IsInf', inputs: [{ dtype: 'float32', dims: [5], values: [NaN, 1, Infinity, -Infinity, 0], feed: true }] },
  { name: 'IsInf negative only', op: 'IsInf', attrs: { detect_positive: 0 }, inputs: [{ dtype: 'float32', dims: [5], values: [NaN, 1, Infinity, -Infinity, 0], feed: true }] },
  { name: 'IsInf fed', op: 'IsInf', inputs: [f32([10])] },
  // Clip: attributes before opset 11, optional scalar inputs after (runtime or initializer)
  { name: 'Clip opset 6 attrs', op: 'Clip', opset: 6, attrs: { min: -0.5, max: 0.75 }, inputs: [f32([4, 9])] },
  { name: 'Clip opset 6 default', op: 'Clip', opset: 6, inputs: [f32([4, 9])] },
  { name: 'Clip initializer bounds', op: 'Clip', inputs: [f32([4, 9]), { dtype: 'float32', dims: [], values: [-1] }, { dtype: 'float32', dims: [], values: [0.5] }] },
  { name: 'Clip fed bounds', op: 'Clip', inputs: [f32([4, 9]), f32([]), f32([], [1, 2])] },
  { name: 'Clip max only', op: 'Clip', inputs: [f32([4, 9]), { ...f32([]), omit: true }, { dtype: 'float32', dims: [], values: [0.1] }] },
  { name: 'Clip min only', op: 'Clip', inputs: [f32([4, 9]), { dtype: 'float32', dims: [], values: [0.1] }] },
  { name: 'Clip min > max', op: 'Clip', inputs: [f32([4, 9]), { dtype: 'float32', dims: [], values: [1] }, { dtype: 'float32', dims: [], values: [0] }] },
  { name: 'Clip int32', op: 'Clip', inputs: [t('int32', [20]), { dtype: 'int32', dims: [], values: [-2] }, { dtype: 'int32', dims: [], values: [3] }] },
  { name: 'Identity', op: 'Identity', inputs: [f32([3, 4])] },
  { name: 'Identity int64', op: 'Identity', inputs: [t('int64', [7])], wasmKernel: true },
  { name: 'Identity bool (a wasm view)', op: 'Identity', inputs: [t('bool', [5, 3])], wasmKernel: true },
  { name: 'Identity float16 (a wasm view)', op: 'Identity', inputs: [t('float16', [9])], wasmKernel: true },
  // The wasm kernels (kernels/wasm/src/eltwise-unary.c): 4 lanes then a scalar tail (21 = 5 x 4 + 1,
  // 2 < 4: tail only), and the vector exp across its whole range (overflow, denormals, underflow).
  ...['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Exp', 'Neg', 'Abs', 'HardSigmoid', 'HardSwish', 'Softsign'].flatMap((op): OpCase[] => [
    { name: `${op} wasm odd size`, op, inputs: [f32([7, 3], [-6, 6])], wasmKernel: true },
    { name: `${op} wasm tail only`, op, inputs: [f32([2], [-6, 6])], wasmKernel: true },
  ]),
  { name: 'Sqrt wasm odd size', op: 'Sqrt', inputs: [f32([7, 3], [0, 9])], wasmKernel: true },
  // Floor/Ceil/Round on values with .5 ties; ThresholdedRelu; Log over its whole range (no denormal:
  // SwiftShader gives NaN for log(1e-40) on WebGPU; the wasm one scales them up, unchecked here;
  // values near 1 where only the m + y form keeps the error relative), held to 1e-6 relative
  ...['Floor', 'Ceil', 'Round'].map((op): OpCase => ({ name: `${op} wasm halves`, op, inputs: [{ dtype: 'float32', dims: [11], values: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.49, 0.51, 3.7, -3.7, 1e7 + 1], feed: true }], wasmKernel: true })),
  ...['Floor', 'Ceil', 'Round'].map((op): OpCase => ({ name: `${op} wasm odd size`, op, inputs: [f32([7, 3], [-6, 6])], wasmKernel: true })),
  { name: 'ThresholdedRelu wasm', op: 'ThresholdedRelu', opset: 10, attrs: { alpha: 0.3 }, inputs: [f32([7, 3], [-2, 2])], wasmKernel: true },
  { name: 'Log wasm odd size', op: 'Log', inputs: [f32([7, 3], [0.01, 50])], wasmKernel: true },
  { name: 'Log wasm near 1', op: 'Log', inputs: [f32([1001], [0.9, 1.1])], wasmTolerance: { rtol: 1e-6, atol: 1e-12 }, wasmKernel: true },
  { name: 'Log wasm special values', op: 'Log', inputs: [{ dtype: 'float32', dims: [9], values: [0, -0, -1, Infinity, NaN, 2e-38, 1.2e-38, 3.4e38, 1], feed: true }], wasmTolerance: { rtol: 1e-6, atol: 0 }, wasmKernel: true },
  { name: 'Log wasm wide range', op: 'Log', inputs: [f32([2001], [1e-6, 1e6])], wasmTolerance: { rtol: 1e-6, atol: 1e-12 }, wasmKernel: true },
  { name: 'Reciprocal wasm odd size', op: 'Reciprocal', inputs: [f32([7, 3], [0.2, 4])], wasmKernel: true },
  // The vector exp's documented bound (vmath.h: <= 2e-7 relative for normal results), held tighter
  // than the op tolerance so a drifting coefficient shows (a 2e-4 change in one did not fail 1e-4).
  { name: 'Exp wasm full range', op: 'Exp', inputs: [f32([4099], [-106, 89])], wasmTolerance: { rtol: 1e-6, atol: 1e-37 }, wasmKernel: true },
  { name: 'Sigmoid wasm saturating', op: 'Sigmoid', inputs: [f32([1001], [-100, 100])], wasmTolerance: { rtol: 1e-6, atol: 1e-37 }, wasmKernel: true },
  { name: 'Tanh wasm around the series switch', op: 'Tanh', inputs: [f32([1001], [-0.2, 0.2])], tolerance: { rtol: 1e-4, atol: 1e-9 }, wasmTolerance: { rtol: 1e-6, atol: 1e-9 }, wasmKernel: true },
  // vmath.h's erf (onnxruntime's MLAS form) switches from x + x p(x^2) to 1 - e^r(|x|) at 0.9277;
  // its e^r as erfc (Gelu's negative half) is documented within 6.4e-5 relative down to x = -5.5.
  { name: 'Erf wasm around the series switch', op: 'Erf', inputs: [f32([1001], [-1.2, 1.2])], tolerance: { rtol: 1e-4, atol: 1e-9 }, wasmTolerance: { rtol: 1e-6, atol: 1e-9 }, wasmKernel: true },
  { name: 'Erf wasm tails', op: 'Erf', inputs: [f32([1001], [-4.5, 4.5])], wasmTolerance: { rtol: 1e-6, atol: 1e-9 }, wasmKernel: true },
  { name: 'Gelu wasm negative half', op: 'Gelu', opset: 20, inputs: [f32([1001], [-5.5, 0])], wasmTolerance: { rtol: 1e-4, atol: 1e-12 }, wasmKernel: true },
  { name: 'Gelu tanh wasm', op: 'Gelu', opset: 20, attrs: { approximate: 'tanh' }, inputs: [f32([5, 41], [-8, 8])], wasmKernel: true },
  { name: 'Gelu contrib wasm', op: 'Gelu', domain: 'com.microsoft', inputs: [f32([5, 41], [-8, 8])], wasmKernel: true },
  { name: 'Clip constant bounds wasm', op: 'Clip', inputs: [f32([7, 9], [-3, 3]), { dtype: 'float32', dims: [], values: [-1] }, { dtype: 'float32', dims: [], values: [0.5] }], wasmKernel: true },
  { name: 'Clip opset 6 attributes wasm', op: 'Clip', opset: 6, attrs: { min: -0.5, max: 2 }, inputs: [f32([33], [-3, 3])], wasmKernel: true },
  { name: 'Clip no bounds wasm', op: 'Clip', inputs: [f32([33], [-3, 3])], wasmKernel: true },
];

runOpCases('elementwise-unary', cases);

runBadInputCases('elementwise-unary', [
  { name: 'integer input to a float op', op: 'Sigmoid', inputs: [t('int32', [3])], error: /type int32 is not one of float32/ },
  { name: 'Not on floats', op: 'Not', inputs: [f32([3])], error: /type float32 is not one of bool/ },
  { name: 'Gelu unknown approximation', op: 'Gelu', opset: 20, attrs: { approximate: 'fast' }, inputs: [f32([3])], error: /approximate must be 'none' or 'tanh', got 'fast'/ },
  { name: 'Clip non-scalar bound', op: 'Clip', inputs: [f32([3]), f32([2])], error: /min must be a scalar, got shape \[2\]/ },
  { name: 'Clip bound of another type', op: 'Clip', inputs: [f32([3]), { dtype: 'int32', dims: [] }], error: /min has type int32, expected float32/ },
]);
