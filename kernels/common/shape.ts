import { fail } from '../../core/errors.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';

export function broadcastShapes(shapes: readonly (readonly number[])[], ctx: KernelContext): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else fail('INVALID_GRAPH', `node '${ctx.node}': shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`, failing clearly when out of range. */
export function normalizeAxis(axis: number, rank: number, ctx: KernelContext): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail('INVALID_GRAPH', `node '${ctx.node}': axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function requireInput(inputs: readonly MaybeMeta[], i: number, ctx: KernelContext): TensorMeta {
  const m = inputs[i];
  if (!m) fail('INVALID_GRAPH', `node '${ctx.node}': required input #${i} is missing`);
  return m;
}

export function requireType(meta: TensorMeta, allowed: readonly string[], ctx: KernelContext, what = 'input'): void {
  if (!allowed.includes(meta.dtype)) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} type ${meta.dtype} is not one of ${allowed.join(', ')}`);
}

export function requireRank(meta: TensorMeta, ranks: readonly number[], ctx: KernelContext, what = 'input'): void {
  if (!ranks.includes(meta.dims.length)) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} has rank ${meta.dims.length}, expected ${ranks.join(' or ')}`);
}

/** Whether two shapes are the same dims in the same order. */
export const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function product(dims: readonly number[], from = 0, to = dims.length): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= dims[i]!;
  return p;
}

export const FLOAT_TYPES = ['float32', 'float16', 'float64'] as const;
export const NUMERIC_TYPES = ['float32', 'float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;

/**
 * For each flat index of `outDims`, the flat index of the broadcast source with `inDims`;
 * undefined when the shapes are equal (identity map).
 */
export function broadcastIndexMap(outDims: readonly number[], inDims: readonly number[]): Int32Array | undefined {
  if (outDims.length === inDims.length && outDims.every((d, i) => d === inDims[i])) return undefined;
  const size = product(outDims);
  const map = new Int32Array(size);
  const rank = outDims.length;
  const shift = rank - inDims.length;
  const inStrides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = inDims.length - 1; i >= 0; i--) {
    inStrides[i + shift] = inDims[i] === 1 ? 0 : acc;
    acc *= inDims[i]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let o = 0; o < size; o++) {
    map[o] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += inStrides[d]!;
      if (idx[d]! < outDims[d]!) break;
      off -= inStrides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return map;
}
