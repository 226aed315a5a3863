import { runOpCases, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]) => ({ dtype: 'float32' as const, dims });
const mm = (name: string, a: number[], b: number[], extra: Partial<OpCase> = {}): OpCase => ({ name, op: 'MatMul', inputs: [f32(...a), f32(...b)], ...extra });
// Sums of K products of values in [-2, 2): absolute error grows with K, so atol scales a little.
const tol = { rtol: 1e-4, atol: 1e-4 };

const cases: OpCase[] = [
  mm('1x1x1', [1, 1], [1, 1]),
  mm('3x5x7 (not tile multiples)', [3, 5], [5, 7]),
  mm('127x65x33 (odd sizes)', [127, 65], [65, 33], { tolerance: tol }),
  mm('64x64x64', [64, 64], [64, 64], { tolerance: tol }),
  mm('K=1', [9, 1], [1, 13]),
  mm('K=2', [9, 2], [2, 13]),
  mm('K=3', [17, 3], [3, 40]),
  mm('K=5', [17, 5], [5, 40]),
  mm('K=0 (zeros)', [3, 0], [0, 4]),
  mm('M=1 row vector times matrix', [1, 64], [64, 100], { tolerance: tol }),
  mm('N=1 matrix times column', [50, 33], [33, 1]),
  mm('1-D x 2-D', [7], [7, 5]),
  mm('2-D x 1-D', [6, 7], [7]),
  mm('1-D x 1-D (scalar result)', [9], [9]),
  mm('3-D x 1-D', [2, 5, 7], [7]),
  mm('1-D x 3-D', [7], [3, 7, 4]),
  mm('batched 4-D', [2, 3, 5, 7], [2, 3, 7, 4]),
  mm('batch broadcast both ways', [2, 1, 5, 7], [3, 7, 4]),
  mm('batch broadcast B 2-D', [4, 5, 6], [6, 3]),
  mm('batch broadcast A 2-D', [5, 6], [4, 6, 3]),
  mm('batch with unit dims', [1, 3, 1, 4, 5], [2, 1, 1, 5, 2]),
  { name: 'int32', op: 'MatMul', inputs: [{ dtype: 'int32', dims: [5, 6] }, { dtype: 'int32', dims: [6, 7] }] },
  { name: 'int32 batched odd', op: 'MatMul', inputs: [{ dtype: 'int32', dims: [3, 17, 9] }, { dtype: 'int32', dims: [9, 11] }] },
  { name: 'float16', op: 'MatMul', inputs: [{ dtype: 'float16', dims: [4, 8] }, { dtype: 'float16', dims: [8, 5] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  // Fused epilogue (as our fusion pass writes it): input 2 = bias along the last dim, then activation.
  { name: 'bias', op: 'MatMul', inputs: [f32(6, 10), f32(10, 9), f32(9)] },
  { name: 'bias + Relu', op: 'MatMul', inputs: [f32(2, 19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Relu' } },
  { name: 'bias + LeakyRelu', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'LeakyRelu', kiln_activation_params: { floats: [0.1] } } },
  { name: 'bias + Clip', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Clip', kiln_activation_params: { floats: [-0.5, 0.75] } } },
  { name: 'Sigmoid, no bias', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35)], attrs: { kiln_activation: 'Sigmoid' } },
  { name: 'bias + Tanh', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'Tanh' } },
  { name: 'bias + HardSigmoid', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'HardSigmoid', kiln_activation_params: { floats: [0.3, 0.4] } } },
  { name: 'bias + HardSwish', op: 'MatMul', inputs: [f32(19, 10), f32(10, 35), f32(35)], attrs: { kiln_activation: 'HardSwish' } },
  { name: 'bias + Relu, N=1 (transposed run)', op: 'MatMul', inputs: [f32(21, 10), f32(10, 1), f32(1)], attrs: { kiln_activation: 'Relu' } },
  // Dispatch limits: 66000 workgroups need the 2-D split; 4.4M outputs > 65535 * 64.
  mm('66000 batches (2-D dispatch)', [66000, 2, 3], [3, 2]),
  mm('2100x4x2100 (4.4M outputs)', [2100, 4], [4, 2100]),
];

runOpCases('matmul', cases);
