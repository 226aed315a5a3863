import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * TensorScatter (opset 24), the standard KV-cache update: present = past with `update` written
 * along the sequence axis at write_indices[batch] (0 when absent), wrapping modulo the cache
 * length in circular mode. A linear write past the end, or a negative index, is an error on the
 * CPU; the GPU, which cannot raise one, leaves those places as they were.
 */

export interface TensorScatterLayout {
  readonly out: TensorMeta;
  readonly axis: number;
  /** elements before the axis per batch entry, the cache and update lengths, elements after */
  readonly batch: number;
  readonly prefix: number;
  readonly maxLen: number;
  readonly seqLen: number;
  readonly inner: number;
  readonly circular: boolean;
}

export function tensorScatterLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorScatterLayout {
  const past = requireInput(inputs, 0, ctx);
  const update = requireInput(inputs, 1, ctx);
  const r = past.dims.length;
  if (r < 2) fail('INVALID_GRAPH', `node '${ctx.node}': TensorScatter past_cache must have rank >= 2, got dims [${past.dims.join(', ')}]`);
  const axis = normalizeAxis(ctx.attrs.int('axis', -2), r, ctx);
  if (axis === 0) fail('INVALID_GRAPH', `node '${ctx.node}': TensorScatter axis cannot be the batch axis 0`);
  if (update.dtype !== past.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': update type ${update.dtype} differs from past_cache type ${past.dtype}`);
  const sameElsewhere = update.dims.length === r && update.dims.every((d, i) => i === axis || d === past.dims[i]);
  if (!sameElsewhere || update.dims[axis]! > past.dims[axis]!) {
    fail('INVALID_GRAPH', `node '${ctx.node}': TensorScatter update [${update.dims.join(', ')}] must match past_cache [${past.dims.join(', ')}] except a shorter axis ${axis}`);
  }
  const wi = inputs[2];
  if (wi) {
    requireType(wi, ['int64'], ctx, 'write_indices');
    if (wi.dims.length !== 1 || wi.dims[0] !== past.dims[0]) fail('INVALID_GRAPH', `node '${ctx.node}': TensorScatter write_indices must be [${past.dims[0]}], got dims [${wi.dims.join(', ')}]`);
  }
  const mode = ctx.attrs.string('mode', 'linear');
  if (mode !== 'linear' && mode !== 'circular') fail('INVALID_GRAPH', `node '${ctx.node}': TensorScatter mode '${mode}' is not linear or circular`);
  return {
    out: { dtype: past.dtype, dims: past.dims },
    axis,
    batch: past.dims[0]!,
    prefix: product(past.dims, 1, axis),
    maxLen: past.dims[axis]!,
    seqLen: update.dims[axis]!,
    inner: product(past.dims, axis + 1),
    circular: mode === 'circular',
  };
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [past, update] = [inputs[0]!, inputs[1]!];
  const L = tensorScatterLayout(inputs.map((t) => t && metaOf(t)), ctx);
  const writes = inputs[2] ? toNumbers(inputs[2]) : new Float64Array(L.batch);
  const res = allocData(past.type, past.size);
  copyCells(res, 0, past.data, 0, past.size);
  for (let b = 0; b < L.batch; b++) {
    const start = writes[b]!;
    if (start < 0 || (!L.circular && start + L.seqLen > L.maxLen)) {
      fail('INVALID_ARGUMENT', `node '${ctx.node}': TensorScatter write index ${start} (+ ${L.seqLen}) does not fit a cache of length ${L.maxLen}`);
    }
    for (let p = 0; p < L.prefix; p++) {
      for (let s = 0; s < L.seqLen; s++) {
        const at = L.circular ? (start + s) % L.maxLen : start + s;
        copyCells(res, ((b * L.prefix + p) * L.maxLen + at) * L.inner, update.data, ((b * L.prefix + p) * L.seqLen + s) * L.inner, L.inner);
      }
    }
  }
  return [new Tensor(past.type, res, past.dims)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'TensorScatter', inferOutputs: (inputs, ctx) => [tensorScatterLayout(inputs, ctx).out], reference },
];
