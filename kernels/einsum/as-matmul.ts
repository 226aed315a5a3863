import type { EinsumPlan } from './equation.ts';

/**
 * When a two-operand Einsum is a (batched) matrix product, its labels map onto the tiled GEMM's
 * strided operands (kernels/webgpu/tiled-matmul.ts) with no copy: labels on both inputs and the
 * output are batch axes, on A and the output only the row (M), on B and the output only the
 * column (N), on both inputs but not the output the contraction (K). At most one label per M, N
 * and K (each may be absent: size 1), no diagonal (label repeated within an input), no label
 * summed within one operand, and the output in order [batch..., M, N] (or [batch..., N, M], with
 * the operands swapped). Anything else runs the general Einsum kernel.
 */
export interface EinsumMatmul {
  /** the input slot that plays A (the other plays B) */
  readonly aSlot: number;
  readonly batchDims: readonly number[];
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: { readonly batchStrides: readonly number[]; readonly rowStride: number; readonly colStride: number };
  readonly b: { readonly batchStrides: readonly number[]; readonly rowStride: number; readonly colStride: number };
}

export function einsumAsMatmul(plan: EinsumPlan, strides: readonly ReadonlyMap<number, number>[]): EinsumMatmul | undefined {
  if (plan.inputs.length !== 2) return undefined;
  if (plan.inputs.some((labels) => new Set(labels).size !== labels.length)) return undefined;
  for (const aSlot of [0, 1]) {
    const [A, B] = [new Set(plan.inputs[aSlot]!), new Set(plan.inputs[1 - aSlot]!)];
    const out = plan.output;
    const inOut = new Set(out);
    const role = (l: number): 'batch' | 'm' | 'n' | 'k' | undefined => {
      if (A.has(l) && B.has(l)) return inOut.has(l) ? 'batch' : 'k';
      if (!inOut.has(l)) return undefined; // summed within one operand
      return A.has(l) ? 'm' : 'n';
    };
    const all = [...new Set([...A, ...B])];
    if (all.some((l) => role(l) === undefined)) return undefined;
    const ms = all.filter((l) => role(l) === 'm');
    const ns = all.filter((l) => role(l) === 'n');
    const ks = all.filter((l) => role(l) === 'k');
    if (ms.length > 1 || ns.length > 1 || ks.length > 1) return undefined;
    const batch = out.filter((l) => role(l) === 'batch');
    const want = [...batch, ...ms, ...ns];
    if (want.length !== out.length || want.some((l, i) => l !== out[i])) continue;
    const sa = strides[aSlot]!;
    const sb = strides[1 - aSlot]!;
    const st = (s: ReadonlyMap<number, number>, l: number | undefined): number => (l === undefined ? 0 : (s.get(l) ?? 0));
    const size = (l: number | undefined): number => (l === undefined ? 1 : plan.sizes.get(l)!);
    const [m, n, k] = [ms[0], ns[0], ks[0]];
    return {
      aSlot,
      batchDims: batch.map(size),
      M: size(m),
      N: size(n),
      K: size(k),
      a: { batchStrides: batch.map((l) => st(sa, l)), rowStride: st(sa, m), colStride: st(sa, k) },
      b: { batchStrides: batch.map((l) => st(sb, l)), rowStride: st(sb, k), colStride: st(sb, n) },
    };
  }
  return undefined;
}
