import { testRng } from '../helpers/random.ts';
import { runOpCases, withHardwareTuning, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]) => ({ dtype: 'float32' as const, dims });
const gemm = (name: string, inputs: OpCase['inputs'], attrs: OpCase['attrs'] = {}, extra: Partial<OpCase> = {}): OpCase => ({ name, op: 'Gemm', inputs, attrs, ...extra });
const tol = { rtol: 1e-4, atol: 1e-4 };

const cases: OpCase[] = [
  gemm('default, no C', [f32(3, 5), f32(5, 4)]),
  gemm('transA', [f32(5, 3), f32(5, 4)], { transA: 1 }),
  gemm('transB', [f32(3, 5), f32(4, 5)], { transB: 1 }),
  gemm('transA + transB', [f32(5, 3), f32(4, 5)], { transA: 1, transB: 1 }),
  gemm('alpha, beta, matrix C', [f32(3, 5), f32(5, 4), f32(3, 4)], { alpha: 0.5, beta: { float: 2 } }),
  gemm('C vector [N]', [f32(3, 5), f32(5, 4), f32(4)], { beta: 0.25 }),
  gemm('C [1]', [f32(3, 5), f32(5, 4), f32(1)]),
  gemm('C scalar []', [f32(3, 5), f32(5, 4), f32()], { alpha: { float: 3 } }),
  gemm('C [M, 1]', [f32(3, 5), f32(5, 4), f32(3, 1)]),
  gemm('C [1, N]', [f32(3, 5), f32(5, 4), f32(1, 4)]),
  gemm('127x65x33 transB + bias (Linear)', [f32(127, 65), f32(33, 65), f32(33)], { transB: 1 }, { tolerance: tol }),
  gemm('133x70x45 transA, alpha, C', [f32(70, 133), f32(70, 45), f32(133, 45)], { transA: 1, alpha: 0.7, beta: 1.3 }, { tolerance: tol }),
  gemm('batch-1 Linear (M=1)', [f32(1, 64), f32(10, 64), f32(10)], { transB: 1 }, { tolerance: tol }),
  gemm('N=1', [f32(8, 6), f32(6, 1), f32(1)]),
  gemm('K=3 tail', [f32(20, 3), f32(3, 40)]),
  gemm('Relu epilogue', [f32(30, 20), f32(20, 40), f32(40)], { kiln_activation: 'Relu' }),
  gemm('LeakyRelu epilogue with alpha/beta', [f32(30, 20), f32(40, 20), f32(30, 40)], { transB: 1, alpha: 0.5, beta: 0.5, kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.2] } }),
  gemm('Clip epilogue', [f32(30, 20), f32(20, 40)], { kiln_activation: 'Clip', kiln_activation_params: { floats: [0, 1.5] } }),
  gemm('int32', [{ dtype: 'int32', dims: [7, 5] }, { dtype: 'int32', dims: [5, 6] }, { dtype: 'int32', dims: [6] }]),
  // The integer GPU kernel has no scaling: alpha != 1 on ints runs on the CPU by design.
  gemm('int32 with alpha (CPU fallback)', [{ dtype: 'int32', dims: [7, 5] }, { dtype: 'int32', dims: [5, 6] }], { alpha: { float: 2 } }, { gpu: false }),
  gemm('large 1100x8x1000 transB', [f32(1100, 8), f32(1000, 8), f32(1000)], { transB: 1 }),
  // the vec4 form of the tiled product (hardware tiles, B's rows whole vec4s), matrix C and epilogue
  ...withHardwareTuning([
    gemm('vec4 alpha, beta, matrix C, LeakyRelu', [f32(30, 20), f32(20, 40), f32(30, 40)], { alpha: 0.5, beta: 0.5, kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.2] } }),
    gemm('vec4 transA, C [N]', [f32(20, 30), f32(20, 40), f32(40)], { transA: 1 }),
  ]),
];

// The wasm kernel (kernels/gemm/wasm.ts) runs every float32 case above; these must not fall back to js.
const fed = cases.map((c) => ({ ...c, wasmKernel: c.inputs[0]!.dtype === 'float32' }));

// B (and C) as initializers: the wasm kernel packs B once with alpha folded in and, for a C that is
// one row, beta * C in the panels' bias row; a C per row or a full matrix is written into Y first.
// Values come from the run's seeded stream (KILN_TEST_SEED replays them).
const rng = testRng('ops', 'gemm', 'initializers');
const init = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, values: Array.from({ length: dims.reduce((x, d) => x * d, 1) }, () => rng.range(-2, 2)) });
const wasmConst = (name: string, inputs: OpCase['inputs'], attrs: OpCase['attrs'] = {}): OpCase => ({ ...gemm(`initializers: ${name}`, inputs, attrs, { tolerance: tol }), wasmKernel: true });
const initializerCases: OpCase[] = [
  wasmConst('Linear transB + bias [N]', [f32(13, 37), init(21, 37), init(21)], { transB: 1 }),
  wasmConst('alpha, beta, C [1, N]', [f32(9, 17), init(17, 11), init(1, 11)], { alpha: 0.5, beta: { float: 1.5 } }),
  wasmConst('C scalar, alpha', [f32(5, 8), init(8, 6), init(1)], { alpha: { float: 3 }, beta: 0.25 }),
  wasmConst('C [M, 1], beta', [f32(7, 9), init(9, 10), init(7, 1)], { beta: 2 }),
  wasmConst('C [M, N] matrix, transB, Relu', [f32(6, 10), init(12, 10), init(6, 12)], { transB: 1, kiln_activation: 'Relu' }),
  wasmConst('M=1 HardSwish', [f32(1, 64), init(64, 30), init(30)], { kiln_activation: 'HardSwish' }),
  wasmConst('Sigmoid, no C', [f32(4, 5), init(5, 3)], { kiln_activation: 'Sigmoid' }),
  wasmConst('Clip, N tail', [f32(33, 20), init(20, 13), init(13)], { kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 0.7] } }),
  // M = 1..3 runs the GEMM's matrix-vector tiles: 4, 3 or 2 panels of 8 columns at once (M = 1, 2, 3), then
  // single panels; N = 75 leaves 1 whole panel past two groups of 4 plus a 3-column tail, K = 83 a K tail.
  wasmConst('M=1 Linear transB + bias [N], N and K tails (matrix-vector tiles)', [f32(1, 83), init(75, 83), init(75)], { transB: 1 }),
  wasmConst('M=2 transB + bias, Relu (matrix-vector tiles)', [f32(2, 83), init(75, 83), init(75)], { transB: 1, kiln_activation: 'Relu' }),
  wasmConst('M=3 transB, C [M, N] accumulated, Clip (matrix-vector tiles)', [f32(3, 41), init(50, 41), init(3, 50)], { transB: 1, kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 0.7] } }),
  wasmConst('M=1 alpha, beta, C [N], Tanh (matrix-vector tiles)', [f32(1, 29), init(29, 64), init(64)], { alpha: 0.5, beta: 2, kiln_activation: 'Tanh' }),
  wasmConst('transA + transB, alpha, C [M, N]', [f32(19, 11), init(7, 19), init(11, 7)], { transA: 1, transB: 1, alpha: 0.3, beta: 0.6 }),
];

runOpCases('gemm', [...fed, ...initializerCases]);
