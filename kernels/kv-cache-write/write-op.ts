// KvCacheWrite (domain 'kiln', internal: generate() puts it in a graph, models never carry it):
// cache [B, H, M, D] with rows [offset, offset + S) of each head replaced by new [B, H, S, D]; or
// com.microsoft Attention's stacked cache [2, B, H, M, D] with new [2, B, H, S, D] (keys then values:
// the same slabs of M rows, twice as many).
// It stands where a decoder concatenates past and new keys/values (Concat(past, new) -> present)
// when generate() keeps the cache at its maximum length: the present keeps the cache's shape, so
// every decode step runs one plan, and the offset is a run-time input (not a plan-time value).
// offset is a one-element tensor (float32, int32 or int64; generate() feeds float32, which every
// backend's arena holds) with an integral value in [0, M - S].
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { product } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

export interface KvWriteShape {
  /** batch x heads (x 2 for a stacked cache): the rows of the cache that each take their own slab */
  readonly slabs: number;
  /** the cache's positions per slab (M) */
  readonly capacity: number;
  /** new positions per slab (S) */
  readonly count: number;
  /** elements per position (D) */
  readonly width: number;
}

export function inferKvCacheWrite(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; shape: KvWriteShape } {
  const [cache, update, offset] = inputs;
  if (!cache || !update || !offset) return fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite takes cache, new and offset`);
  const rank = cache.dims.length;
  if ((rank !== 4 && rank !== 5) || update.dims.length !== rank || (rank === 5 && cache.dims[0] !== 2)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite needs cache and new of rank 4 ([batch, heads, sequence, head size]) or 5 ([2, batch, heads, sequence, head size]), given [${cache.dims.join(', ')}] and [${update.dims.join(', ')}]`);
  }
  if (update.dtype !== cache.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite new is ${update.dtype}, the cache ${cache.dtype}`);
  const [m, d] = cache.dims.slice(-2) as [number, number];
  const [s, d2] = update.dims.slice(-2) as [number, number];
  const lead = cache.dims.slice(0, -2);
  if (d2 !== d || s > m || update.dims.slice(0, -2).some((x, i) => x !== lead[i])) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite new [${update.dims.join(', ')}] does not fit the cache [${cache.dims.join(', ')}]`);
  if (product(offset.dims) !== 1 || !['float32', 'int32', 'int64'].includes(offset.dtype)) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite offset must be one float32, int32 or int64 value, given ${offset.dtype} [${offset.dims.join(', ')}]`);
  return { out: { dtype: cache.dtype, dims: cache.dims }, shape: { slabs: product(lead), capacity: m, count: s, width: d } };
}

/** The offset's value, checked: a whole number with the new rows inside the cache. */
export function checkedOffset(value: number, shape: KvWriteShape, ctx: Pick<KernelContext, 'node'>): number {
  if (!Number.isInteger(value) || value < 0 || value + shape.count > shape.capacity) {
    fail('INVALID_ARGUMENT', `node '${ctx.node}': KvCacheWrite offset ${value} puts ${shape.count} new position(s) outside a cache of ${shape.capacity}`);
  }
  return value;
}

export const kvCacheWrite: OpDefinition = {
    opType: 'KvCacheWrite',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [inferKvCacheWrite(inputs, ctx).out],
    reference(inputs, ctx): AnyTensor[] {
      const [cache, update, offsetTensor] = inputs as [AnyTensor, AnyTensor, AnyTensor];
      const { out, shape } = inferKvCacheWrite([cache, update, offsetTensor].map((t) => ({ dtype: t.type, dims: t.dims })), ctx);
      const offset = checkedOffset(toNumbers(offsetTensor)[0]!, shape, ctx);
      const { slabs, capacity, count, width } = shape;
      const data = allocData(out.dtype, product(out.dims));
      copyCells(data, 0, cache.data, 0, slabs * capacity * width);
      for (let slab = 0; slab < slabs; slab++) copyCells(data, (slab * capacity + offset) * width, update.data, slab * count * width, count * width);
      return [new Tensor(out.dtype, data, out.dims)];
    },
  };
