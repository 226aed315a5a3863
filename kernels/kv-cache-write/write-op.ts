// KvCacheWrite (domain 'kiln', internal: generate() puts it in a graph, models never carry it):
// cache [B, H, M, D] with rows [offset, offset + S) of each head replaced by new [B, H, S, D].
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
  /** batch x heads: the rows of the cache that each take their own slab */
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
  if (cache.dims.length !== 4 || update.dims.length !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite needs rank-4 cache and new ([batch, heads, sequence, head size]), given [${cache.dims.join(', ')}] and [${update.dims.join(', ')}]`);
  if (update.dtype !== cache.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite new is ${update.dtype}, the cache ${cache.dtype}`);
  const [b, h, m, d] = cache.dims as [number, number, number, number];
  const [b2, h2, s, d2] = update.dims as [number, number, number, number];
  if (b2 !== b || h2 !== h || d2 !== d || s > m) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite new [${update.dims.join(', ')}] does not fit the cache [${cache.dims.join(', ')}]`);
  if (product(offset.dims) !== 1 || !['float32', 'int32', 'int64'].includes(offset.dtype)) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheWrite offset must be one float32, int32 or int64 value, given ${offset.dtype} [${offset.dims.join(', ')}]`);
  return { out: { dtype: cache.dtype, dims: cache.dims }, shape: { slabs: b * h, capacity: m, count: s, width: d } };
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
