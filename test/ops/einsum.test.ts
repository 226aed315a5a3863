import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const es = (name: string, equation: string, inputs: InputSpec[], extra: Partial<OpCase> = {}): OpCase => ({ name: `${name}: ${equation}`, op: 'Einsum', opset: 12, attrs: { equation }, inputs, ...extra });

const cases: OpCase[] = [
  es('matmul', 'ij,jk->ik', [f32(3, 5), f32(5, 4)]),
  es('implicit matmul', 'ij,jk', [f32(3, 5), f32(5, 7)]),
  es('batch matmul', 'bij,bjk->bik', [f32(2, 3, 5), f32(2, 5, 4)]),
  es('attention scores', 'bhqd,bhkd->bhqk', [f32(2, 3, 5, 8), f32(2, 3, 7, 8)]),
  es('transpose', 'ij->ji', [f32(3, 5)]),
  es('implicit transpose (alphabetical output)', 'ba', [f32(3, 5)]),
  es('row sums', 'ij->i', [f32(4, 9)]),
  es('full sum', 'ij->', [f32(4, 9)]),
  es('diagonal', 'ii->i', [f32(5, 5)]),
  es('trace (implicit)', 'ii', [f32(6, 6)]),
  es('batch diagonal', '...ii->...i', [f32(2, 3, 4, 4)]),
  es('inner product', 'i,i', [f32(11), f32(11)]),
  es('outer product', 'i,j->ij', [f32(3), f32(7)]),
  es('ellipsis broadcast', '...ij,...jk->...ik', [f32(2, 1, 3, 4), f32(5, 4, 2)]),
  es('implicit with ellipsis', '...ij,...jk', [f32(2, 3, 4), f32(2, 4, 3)]),
  es('three inputs', 'ij,jk,kl->il', [f32(2, 3), f32(3, 4), f32(4, 5)]),
  es('spaces and capitals', 'Ab, bC -> CA', [f32(3, 4), f32(4, 2)]),
  es('repeated label across and within inputs', 'iij,jk->ik', [f32(3, 3, 4), f32(4, 2)]),
  es('int32', 'ij,jk->ik', [{ dtype: 'int32', dims: [3, 4] }, { dtype: 'int32', dims: [4, 5] }]),
  es('int64 sum', 'ijk->ik', [{ dtype: 'int64', dims: [3, 4, 2] }]),
  es('scalar input', ',ij->ij', [f32(), f32(2, 3)]),
  es('GEMM with swapped operands (output [N, M])', 'ij,jk->ki', [f32(3, 5), f32(5, 4)]),
  es('attention values', 'bhqk,bhkd->bhqd', [f32(2, 2, 5, 7), f32(2, 2, 7, 8)]),
  es('GEMM over a broadcast ellipsis', '...ij,...jk->...ik', [f32(1, 3, 4), f32(5, 4, 2)]),
  es('matrix-vector', 'ij,j->i', [f32(6, 9), f32(9)]),
  es('float16 GEMM', 'bij,bjk->bik', [{ dtype: 'float16', dims: [2, 3, 8] }, { dtype: 'float16', dims: [2, 8, 4] }], { tolerance: { rtol: 2e-3, atol: 2e-3 } }),
  es('larger (dispatch over many groups)', 'bij,bjk->bik', [f32(4, 33, 65), f32(4, 65, 31)], { tolerance: { rtol: 1e-4, atol: 1e-4 } }),
];

runOpCases('einsum', cases);

runBadInputCases('einsum', [
  { name: 'rank mismatch', op: 'Einsum', attrs: { equation: 'ij,jk->ik' }, inputs: [f32(3, 4, 1), f32(4, 2)], error: /term 0 of 'ij,jk->ik' has 2 labels but input 0 has rank 3/ },
  { name: 'size mismatch', op: 'Einsum', attrs: { equation: 'ij,jk->ik' }, inputs: [f32(3, 4), f32(5, 2)], error: /label 'j' has sizes 4 and 5/ },
  { name: 'output label on no input', op: 'Einsum', attrs: { equation: 'ij->iz' }, inputs: [f32(3, 4)], error: /output label 'z'/ },
  { name: 'bad character', op: 'Einsum', attrs: { equation: 'i1->i' }, inputs: [f32(3, 4)], error: /has '1'/ },
  { name: 'input count', op: 'Einsum', attrs: { equation: 'ij,jk->ik' }, inputs: [f32(3, 4)], error: /names 2 inputs, the node has 1/ },
  { name: 'repeated output label', op: 'Einsum', attrs: { equation: 'ij->ii' }, inputs: [f32(3, 3)], error: /repeats a label/ },
  { name: 'mixed types', op: 'Einsum', attrs: { equation: 'i,i' }, inputs: [f32(3), { dtype: 'int32', dims: [3] }], error: /input 1 is int32, input 0 is float32/ },
]);
