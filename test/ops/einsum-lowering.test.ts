// Which Einsum equations run as one tiled GEMM on WebGPU (kernels/einsum/as-matmul.ts), and with
// which strides; their values are checked against the reference in test/ops/einsum.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { einsumAsMatmul } from '../../kernels/einsum/as-matmul.ts';
import { planEinsum } from '../../kernels/einsum/equation.ts';
import { labelStrides } from '../../kernels/einsum/op.ts';

const lower = (equation: string, ...shapes: number[][]): ReturnType<typeof einsumAsMatmul> => {
  const plan = planEinsum(equation, shapes, 'test');
  return einsumAsMatmul(plan, labelStrides(plan, shapes));
};

test('matrix-product equations map onto strided GEMM operands', () => {
  assert.deepEqual(lower('ij,jk->ik', [3, 5], [5, 4]), {
    aSlot: 0, batchDims: [], M: 3, N: 4, K: 5,
    a: { batchStrides: [], rowStride: 5, colStride: 1 },
    b: { batchStrides: [], rowStride: 4, colStride: 1 },
  });
  // attention scores: K read transposed through its strides, no copy
  assert.deepEqual(lower('bhqd,bhkd->bhqk', [2, 3, 5, 8], [2, 3, 7, 8]), {
    aSlot: 0, batchDims: [2, 3], M: 5, N: 7, K: 8,
    a: { batchStrides: [120, 40], rowStride: 8, colStride: 1 },
    b: { batchStrides: [168, 56], rowStride: 1, colStride: 8 },
  });
  // output [N, M]: the operands swap roles
  assert.equal(lower('ij,jk->ki', [3, 5], [5, 4])?.aSlot, 1);
  // broadcast ellipsis axis: stride 0
  assert.deepEqual(lower('...ij,...jk->...ik', [1, 3, 4], [5, 4, 2])?.a.batchStrides, [0]);
  assert.ok(lower('i,j->ij', [3], [7]), 'outer product (K = 1)');
  assert.ok(lower('i,i', [11], [11]), 'inner product (M = N = 1)');
});

test('other equations keep the general kernel', () => {
  assert.equal(lower('ii->i', [4, 4]), undefined, 'one operand');
  assert.equal(lower('iij,jk->ik', [3, 3, 4], [4, 2]), undefined, 'diagonal');
  assert.equal(lower('ij,jk,kl->il', [2, 3], [3, 4], [4, 5]), undefined, 'three operands');
  assert.equal(lower('ijm,jk->ik', [2, 3, 4], [3, 5]), undefined, 'label summed within one operand');
  assert.equal(lower('bij,bjk->ibk', [2, 3, 4], [2, 4, 5]), undefined, 'batch axis not leading in the output');
  assert.equal(lower('abj,jk->abk', [2, 3, 4], [4, 5]), undefined, 'two row labels');
});
