import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { gatherEach } from '../common/each-index.ts';
import { requireInput, requireRank } from '../common/shape.ts';
import { coalesce, rowMajorStrides } from '../common/strided.ts';
import { metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Transpose, and DepthToSpace/SpaceToDepth, which are a transpose of a rank-6 view of the input.
 * Each op reduces to "view the input as (dims, perm)": the output walks the permuted axes, reading
 * the input with the permuted strides.
 */
export interface PermutedView {
  /** the input seen with these dims (same element count) */
  readonly inDims: readonly number[];
  readonly perm: readonly number[];
}

export const PERMUTE_OPS = ['Transpose', 'DepthToSpace', 'SpaceToDepth'] as const;
export type PermuteOp = (typeof PERMUTE_OPS)[number];

function permOf(x: TensorMeta, ctx: KernelContext): number[] {
  const rank = x.dims.length;
  const perm = ctx.attrs.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => p < 0 || p >= rank)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Transpose perm [${perm.join(', ')}] is not a permutation of rank ${rank}`);
  }
  return [...perm];
}

function blockOf(x: TensorMeta, ctx: KernelContext): number {
  requireRank(x, [4], ctx);
  const b = ctx.attrs.int('blocksize');
  if (b === undefined || b < 1) fail('INVALID_GRAPH', `node '${ctx.node}': blocksize must be a positive integer, got ${b}`);
  return b;
}

const VIEWS: Record<PermuteOp, (x: TensorMeta, ctx: KernelContext) => PermutedView> = {
  Transpose: (x, ctx) => ({ inDims: x.dims, perm: permOf(x, ctx) }),
  DepthToSpace: (x, ctx) => {
    const b = blockOf(x, ctx);
    const [n, c, h, w] = x.dims as [number, number, number, number];
    if (c % (b * b) !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': channels ${c} are not divisible by blocksize^2 = ${b * b}`);
    const mode = ctx.attrs.string('mode', 'DCR');
    if (mode === 'DCR') return { inDims: [n, b, b, c / (b * b), h, w], perm: [0, 3, 4, 1, 5, 2] };
    if (mode === 'CRD') return { inDims: [n, c / (b * b), b, b, h, w], perm: [0, 1, 4, 2, 5, 3] };
    return fail('INVALID_GRAPH', `node '${ctx.node}': DepthToSpace mode '${mode}' is not DCR or CRD`);
  },
  SpaceToDepth: (x, ctx) => {
    const b = blockOf(x, ctx);
    const [n, c, h, w] = x.dims as [number, number, number, number];
    if (h % b !== 0 || w % b !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': spatial dims ${h}x${w} are not divisible by blocksize ${b}`);
    return { inDims: [n, c, h / b, b, w / b, b], perm: [0, 3, 5, 1, 2, 4] };
  },
};

export const permutedView = (op: PermuteOp, x: TensorMeta, ctx: KernelContext): PermutedView => VIEWS[op](x, ctx);

function outDimsOf(op: PermuteOp, x: TensorMeta, v: PermutedView, ctx: KernelContext): number[] {
  if (op === 'Transpose') return v.perm.map((p) => v.inDims[p]!);
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const b = blockOf(x, ctx);
  return op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b];
}

export function inferPermute(op: PermuteOp, inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  return [{ dtype: x.dtype, dims: outDimsOf(op, x, permutedView(op, x, ctx), ctx) }];
}

/** The permuted axes of the view and the input stride each one walks. */
export function walk(v: PermutedView): { dims: number[]; strides: number[] } {
  const s = rowMajorStrides(v.inDims);
  return { dims: v.perm.map((p) => v.inDims[p]!), strides: v.perm.map((p) => s[p]!) };
}

/** [B, R, C] -> [B, C, R] when the coalesced walk is exactly that (row/column swap per batch). */
export function asBatchedSwap(dims: readonly number[], strides: readonly number[]): [number, number, number] | undefined {
  const c = coalesce(dims, strides);
  const [d, s] = [c.dims, c.strides];
  if (d.length === 2 && s[1] === d[0] && s[0] === 1) return [1, d[1]!, d[0]!];
  if (d.length === 3 && s[2] === d[1] && s[1] === 1 && s[0] === d[1]! * d[2]!) return [d[0]!, d[2]!, d[1]!];
  return undefined;
}

/**
 * The plain reference: output index (i0..ik) of the permuted view reads input element
 * (i_perm^-1) of the rank-k view, one element at a time; then the output takes its own dims.
 */
function reference(op: PermuteOp) {
  return (inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] => {
    const x = inputs[0]!;
    const [out] = inferPermute(op, [metaOf(x)], ctx);
    const v = permutedView(op, metaOf(x), ctx);
    const inStrides = rowMajorStrides(v.inDims);
    const viewDims = v.perm.map((p) => v.inDims[p]!);
    const y = gatherEach(x, viewDims, (idx) => idx.reduce((off, i, k) => off + i * inStrides[v.perm[k]!]!, 0));
    return [y.reshape(out!.dims)];
  };
}

export const definitions: readonly OpDefinition[] = PERMUTE_OPS.map((op) => ({
  opType: op,
  inferOutputs: (inputs: readonly MaybeMeta[], ctx: KernelContext) => inferPermute(op, inputs, ctx),
  reference: reference(op),
}));
