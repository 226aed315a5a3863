import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { activationOf } from '../common/activation.ts';
import { matmulCpu, numericData, type CpuMatmulOperand } from '../js/gemm.ts';
import { broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { tiledMatmulProgram, type MatmulOperand } from '../webgpu/tiled-matmul.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * MatMul with numpy semantics: batch dims broadcast, a 1-D first operand is a row vector and a
 * 1-D second operand a column vector (their unit dim is dropped from the output). Our fusion pass
 * may add input 2, a bias of length N added along the last dim, and a fused activation
 * (`kiln_activation`); both are applied in the epilogue. Performance notes: common/tiled-matmul.ts.
 */

const TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;

interface Strides {
  readonly batchStrides: number[];
  readonly rowStride: number;
  readonly colStride: number;
}

/** The product as one batched GEMM over contiguous operands. */
interface Problem {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly batchDims: number[];
  readonly outDims: number[];
  readonly a: Strides;
  readonly b: Strides;
  /** bias stride along n (0: a single value broadcast) */
  readonly biasColStride?: number;
}

function batchStrides(batch: readonly number[], matrixSize: number, outBatch: readonly number[]): number[] {
  const shift = outBatch.length - batch.length;
  const strides = new Array<number>(outBatch.length).fill(0);
  let acc = matrixSize;
  for (let e = batch.length - 1; e >= 0; e--) {
    if (batch[e] !== 1) strides[e + shift] = acc;
    acc *= batch[e]!;
  }
  return strides;
}

function problemOf(a: TensorMeta, b: TensorMeta, bias: TensorMeta | undefined, ctx: KernelContext): Problem {
  if (a.dims.length === 0 || b.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inputs must have rank >= 1, got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  const aDims = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bDims = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const M = aDims[aDims.length - 2]!;
  const K = aDims[aDims.length - 1]!;
  const N = bDims[bDims.length - 1]!;
  if (bDims[bDims.length - 2] !== K) {
    fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inner dims differ: [${a.dims.join(', ')}] x [${b.dims.join(', ')}] (${K} vs ${bDims[bDims.length - 2]})`);
  }
  const aBatch = aDims.slice(0, -2);
  const bBatch = bDims.slice(0, -2);
  const batchDims = broadcastShapes([aBatch, bBatch], ctx);
  const outDims = [...batchDims, ...(a.dims.length > 1 ? [M] : []), ...(b.dims.length > 1 ? [N] : [])];
  let biasColStride: number | undefined;
  if (bias) {
    const n = bias.dims.reduce((p, d) => p * d, 1);
    if (n !== N && n !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': fused MatMul bias has ${n} elements, expected ${N} (the last output dim)`);
    biasColStride = n === 1 ? 0 : 1;
  }
  return {
    M,
    N,
    K,
    batchDims,
    outDims,
    a: { batchStrides: batchStrides(aBatch, M * K, batchDims), rowStride: K, colStride: 1 },
    b: { batchStrides: batchStrides(bBatch, K * N, batchDims), rowStride: N, colStride: 1 },
    biasColStride,
  };
}

function infer(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  requireType(a, TYPES, ctx, 'first input');
  if (b.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': MatMul inputs have different types (${a.dtype}, ${b.dtype})`);
  const bias = inputs[2];
  if (bias && bias.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': fused bias type ${bias.dtype} differs from the input type ${a.dtype}`);
  return [{ dtype: a.dtype, dims: problemOf(a, b, bias, ctx).outDims }];
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'MatMul',
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
      const [out] = infer([metaOf(a), metaOf(b), bias && metaOf(bias)], ctx);
      const p = problemOf(metaOf(a), metaOf(b), bias && metaOf(bias), ctx);
      const op = (t: AnyTensor, s: Strides): CpuMatmulOperand => ({ data: numericData(t), ...s });
      const y = matmulCpu({
        M: p.M,
        N: p.N,
        K: p.K,
        batchDims: p.batchDims,
        a: op(a, p.a),
        b: op(b, p.b),
        c: bias && { data: numericData(bias), batchStrides: p.batchDims.map(() => 0), rowStride: 0, colStride: p.biasColStride! },
        activation: activationOf(ctx.attrs),
      });
      return [fromNumbers(out!.dtype, out!.dims, y)];
    },
    webgpu(inputs, outputs, ctx) {
      const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
      const act = activationOf(ctx.attrs);
      const float = a.dtype === 'float32' || a.dtype === 'float16';
      if (act.kind !== 'none' && !float) return undefined;
      const p = problemOf(a, b, bias, ctx);
      if (outputs[0]!.dims.reduce((x, d) => x * d, 1) === 0) return { kind: 'programs', programs: [] };
      const zeros = p.batchDims.map(() => 0);
      let A: MatmulOperand = { meta: a, slot: 0, ...p.a };
      let B: MatmulOperand = { meta: b, slot: 1, ...p.b };
      let C: MatmulOperand | undefined = bias && { meta: bias, slot: 2, batchStrides: zeros, rowStride: 0, colStride: p.biasColStride! };
      let [M, N] = [p.M, p.N];
      // A matrix-vector product (N = 1) runs as its transpose, vector-matrix: the output layout is the
      // same and the kernel spreads work over columns, so every lane has a row of A instead of 1 in 4.
      if (N === 1 && M > 1) {
        [A, B] = [
          { ...B, rowStride: B.colStride, colStride: B.rowStride },
          { ...A, rowStride: A.colStride, colStride: A.rowStride },
        ];
        if (C) C = { ...C, rowStride: C.colStride, colStride: C.rowStride };
        [M, N] = [N, M];
      }
      const program = tiledMatmulProgram(
        { label: `MatMul:${ctx.node}`, M, N, K: p.K, batchDims: p.batchDims, a: A, b: B, c: C, activation: act, out: outputs[0]! },
        ctx.caps,
      );
      return { kind: 'programs', programs: [program] };
    },
  },
];
