import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { activationOf, applyActivation } from '../common/activation.ts';
import { requireInput, requireRank, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { epilogueDims, epilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';
import type { CpuKernel, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Gemm: Y = act(alpha * A' B' + beta * C), A' = transA ? A^T : A, B' likewise; C (optional since
 * opset 11) broadcasts unidirectionally to [M, N]. Transposes and the broadcast are strides of the
 * shared tiled kernel (kernels/webgpu/tiled-matmul.ts) and of the js fast path (kernels/js/gemm.ts), so they cost no extra pass.
 */

const TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;

export interface Layout {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: { rowStride: number; colStride: number };
  readonly b: { rowStride: number; colStride: number };
  readonly c?: { rowStride: number; colStride: number };
  readonly alpha: number;
  readonly beta: number;
}

export function layoutOf(a: TensorMeta, b: TensorMeta, c: TensorMeta | undefined, ctx: KernelContext): Layout {
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

export function inferGemm(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const a = requireInput(inputs, 0, ctx);
  const b = requireInput(inputs, 1, ctx);
  const c = inputs[2];
  requireType(a, TYPES, ctx, 'A');
  for (const [name, m] of [['B', b], ['C', c]] as const) {
    if (m && m.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Gemm ${name} type ${m.dtype} differs from A's ${a.dtype}`);
  }
  const l = layoutOf(a, b, c, ctx);
  // a FusedElementwise tail the WebGPU fusion pass folded in may read more tensors (epilogue.ts)
  return [{ dtype: a.dtype, dims: epilogueDims([l.M, l.N], inputs, ctx) }];
}

/** The plain reference: one float64 dot product per output element, then alpha, beta * C, the activation. */
const reference: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
  const [out] = inferGemm(inputs.map((t) => t && metaOf(t)), ctx);
  const l = layoutOf(metaOf(a), metaOf(b), c && metaOf(c), ctx);
  const [A, B] = [toNumbers(a), toNumbers(b)];
  const C = c && toNumbers(c);
  const act = activationOf(ctx.attrs);
  const y = new Float64Array(l.M * l.N);
  for (let m = 0; m < l.M; m++) {
    for (let n = 0; n < l.N; n++) {
      let sum = 0;
      for (let k = 0; k < l.K; k++) sum += A[m * l.a.rowStride + k * l.a.colStride]! * B[k * l.b.rowStride + n * l.b.colStride]!;
      let v = l.alpha * sum;
      if (C) v += l.beta * C[m * l.c!.rowStride + n * l.c!.colStride]!;
      y[m * l.N + n] = applyActivation(act, v);
    }
  }
  // a FusedElementwise tail the WebGPU fusion pass folded in
  return [fromNumbers(out!.dtype, out!.dims, withEpilogue(epilogueOf(ctx.attrs, ctx.node), y, [l.M, l.N], inputs))];
};

export const definitions: readonly OpDefinition[] = [{ opType: 'Gemm', inferOutputs: inferGemm, reference }];
