import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * TopK: the k largest (or smallest) values along one axis and their indices. Equal values come in
 * index order, as onnxruntime returns them; sorted = 0 leaves the order open, and Kiln returns the
 * sorted order then too. The reference sorts each line.
 */

export interface TopKLayout {
  readonly values: TensorMeta;
  readonly indices: TensorMeta;
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
  readonly k: number;
  readonly largest: boolean;
}

export function topKLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): TopKLayout {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, NUMERIC_TYPES, ctx, 'X');
  if (x.dims.length === 0) fail('INVALID_GRAPH', `node '${ctx.node}': TopK needs an input of rank >= 1, got a scalar`);
  const axis = normalizeAxis(ctx.attrs.int('axis', -1), x.dims.length, ctx);
  let k: number | undefined;
  if (ctx.opset < 10) k = ctx.attrs.int('k');
  else {
    const km = requireInput(inputs, 1, ctx);
    requireType(km, ['int64'], ctx, 'K');
    if (product(km.dims) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': TopK K must hold one value, got dims [${km.dims.join(', ')}]`);
    k = hostInts(ctx, 1)?.[0];
  }
  const len = x.dims[axis]!;
  if (k === undefined || k < 0 || k > len) return fail('INVALID_GRAPH', `node '${ctx.node}': TopK k ${k} must be in [0, ${len}] (the axis length)`);
  const dims = [...x.dims];
  dims[axis] = k;
  return {
    values: { dtype: x.dtype, dims },
    indices: { dtype: 'int64', dims },
    outer: product(x.dims, 0, axis),
    len,
    inner: product(x.dims, axis + 1),
    k,
    largest: ctx.attrs.int('largest', 1) !== 0,
  };
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const x = inputs[0]!;
  const L = topKLayout(inputs.map((t) => t && metaOf(t)), ctx);
  const v = toNumbers(x);
  const n = product(L.values.dims);
  const values = new Float64Array(n);
  const indices = new Float64Array(n);
  const sign = L.largest ? -1 : 1;
  for (let o = 0; o < L.outer; o++) {
    for (let i = 0; i < L.inner; i++) {
      const at = (j: number): number => v[(o * L.len + j) * L.inner + i]!;
      const order = Array.from({ length: L.len }, (_, j) => j).sort((a, b) => sign * (at(a) - at(b)) || a - b);
      for (let r = 0; r < L.k; r++) {
        const e = (o * L.k + r) * L.inner + i;
        values[e] = at(order[r]!);
        indices[e] = order[r]!;
      }
    }
  }
  return [fromNumbers(x.type, L.values.dims, values), fromNumbers('int64', L.indices.dims, indices)];
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'TopK',
    hostInputs: [1],
    inferOutputs: (inputs, ctx) => {
      const L = topKLayout(inputs, ctx);
      return [L.values, L.indices];
    },
    reference,
  },
];
