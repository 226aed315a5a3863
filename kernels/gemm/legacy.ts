import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { activationOf } from '../common/activation.ts';
import { matmulCpu, numericData } from '../js/gemm.ts';
import { requireInput, requireRank, requireType } from '../common/shape.ts';
import { tiledMatmulProgram } from '../webgpu/tiled-matmul.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * Gemm: Y = act(alpha * A' B' + beta * C), A' = transA ? A^T : A, B' likewise; C (optional since
 * opset 11) broadcasts unidirectionally to [M, N]. Transposes and the broadcast are strides of the
 * shared tiled kernel (common/tiled-matmul.ts), so they cost no extra pass.
 */

const TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;

interface Layout {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: { rowStride: number; colStride: number };
  readonly b: { rowStride: number; colStride: number };
  readonly c?: { rowStride: number; colStride: number };
  readonly alpha: number;
  readonly beta: number;
}

function layoutOf(a: TensorMeta, b: TensorMeta, c: TensorMeta | undefined, ctx: KernelContext): Layout {
  requireRank(a, [2], ctx, 'A');
  requireRank(b, [2], ctx, 'B');
  const transA = ctx.attrs.int('transA', 0) !== 0;
  const transB = ctx.attrs.int('transB', 0) !== 0;
  const [a0, a1] = [a.dims[0]!, a.dims[1]!];
  const [b0, b1] = [b.dims[0]!, b.dims[1]!];
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [Kb, N] = transB ? [b1, b0] : [b0, b1];
  if (K !== Kb) fail('INVALID_GRAPH', `node '${ctx.node}': Gemm inner dims differ: A' is ${M}x${K}, B' is ${Kb}x${N} (transA=${+transA}, transB=${+transB})`);
  let cl: Layout['c'];
  if (c) {
    if (c.dims.length > 2) fail('INVALID_GRAPH', `node '${ctx.node}': Gemm C has rank ${c.dims.length}, expected at most 2`);
    const cm = c.dims.length === 2 ? c.dims[0]! : 1;
    const cn = c.dims.length >= 1 ? c.dims[c.dims.length - 1]! : 1;
    if ((cm !== 1 && cm !== M) || (cn !== 1 && cn !== N)) fail('INVALID_GRAPH', `node '${ctx.node}': Gemm C [${c.dims.join(', ')}] does not broadcast to [${M}, ${N}]`);
    cl = { rowStride: cm === 1 ? 0 : cn, colStride: cn === 1 ? 0 : 1 };
  }
  return {
    M,
    N,
    K,
    a: transA ? { rowStride: 1, colStride: a1 } : { rowStride: a1, colStride: 1 },
    b: transB ? { rowStride: 1, colStride: b1 } : { rowStride: b1, colStride: 1 },
    c: cl,
    alpha: ctx.attrs.float('alpha', 1),
    beta: ctx.attrs.float('beta', 1),
  };
}

function infer(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  const c = inputs[2];
  requireType(a, TYPES, ctx, 'A');
  for (const [name, m] of [['B', b], ['C', c]] as const) {
    if (m && m.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Gemm ${name} type ${m.dtype} differs from A's ${a.dtype}`);
  }
  const l = layoutOf(a, b, c, ctx);
  return [{ dtype: a.dtype, dims: [l.M, l.N] }];
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'Gemm',
    inferOutputs: infer,
    cpu(inputs, ctx): AnyTensor[] {
      const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
      const [out] = infer([metaOf(a), metaOf(b), c && metaOf(c)], ctx);
      const l = layoutOf(metaOf(a), metaOf(b), c && metaOf(c), ctx);
      const y = matmulCpu({
        M: l.M,
        N: l.N,
        K: l.K,
        batchDims: [],
        a: { data: numericData(a), batchStrides: [], ...l.a },
        b: { data: numericData(b), batchStrides: [], ...l.b },
        c: c && { data: numericData(c), batchStrides: [], ...l.c! },
        alpha: l.alpha,
        beta: l.beta,
        activation: activationOf(ctx.attrs),
      });
      return [fromNumbers(out!.dtype, out!.dims, y)];
    },
    webgpu(inputs, outputs, ctx) {
      const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
      const l = layoutOf(a, b, c, ctx);
      const act = activationOf(ctx.attrs);
      // The integer kernel has no alpha/beta scaling or activation: such rare nodes run on the CPU.
      const float = a.dtype === 'float32' || a.dtype === 'float16';
      if (!float && (l.alpha !== 1 || (c && l.beta !== 1) || act.kind !== 'none')) return undefined;
      if (l.M * l.N === 0) return { kind: 'programs', programs: [] };
      const program = tiledMatmulProgram(
        {
          label: `Gemm:${ctx.node}`,
          M: l.M,
          N: l.N,
          K: l.K,
          batchDims: [],
          a: { meta: a, slot: 0, batchStrides: [], ...l.a },
          b: { meta: b, slot: 1, batchStrides: [], ...l.b },
          c: c && { meta: c, slot: 2, batchStrides: [], ...l.c! },
          alpha: l.alpha,
          beta: l.beta,
          activation: act,
          out: outputs[0]!,
        },
        ctx.caps,
      );
      return { kind: 'programs', programs: [program] };
    },
  },
];
