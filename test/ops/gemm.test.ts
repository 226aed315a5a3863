import { runOpCases, type OpCase } from './op-harness.ts';

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
];

runOpCases('gemm', cases);
