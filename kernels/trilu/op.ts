import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { product, requireInput, requireType } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import { hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each matrix in the last two
 * axes and zeroes the rest; k is an optional scalar input (default 0). Any element type.
 */

export interface TriluLayout {
  readonly out: TensorMeta;
  readonly rows: number;
  readonly cols: number;
  readonly k: number;
  readonly upper: boolean;
}

export function triluLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): TriluLayout {
  const x = requireInput(inputs, 0, ctx);
  if (x.dims.length < 2) fail('INVALID_GRAPH', `node '${ctx.node}': Trilu needs an input of rank >= 2, got dims [${x.dims.join(', ')}]`);
  let k = 0;
  const kMeta = inputs[1];
  if (kMeta) {
    requireType(kMeta, ['int64'], ctx, 'k');
    if (product(kMeta.dims) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': Trilu k must be a scalar, got dims [${kMeta.dims.join(', ')}]`);
    const v = hostInts(ctx, 1);
    if (!v) return fail('INVALID_GRAPH', `node '${ctx.node}': Trilu needs the value of k`);
    k = v[0]!;
  }
  const r = x.dims.length;
  return { out: { dtype: x.dtype, dims: x.dims }, rows: x.dims[r - 2]!, cols: x.dims[r - 1]!, k, upper: ctx.attrs.int('upper', 1) !== 0 };
}

/** Whether element (i, j) of a matrix survives. */
export const keeps = (L: TriluLayout, i: number, j: number): boolean => (L.upper ? j - i >= L.k : j - i <= L.k);

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const x = inputs[0]!;
  const L = triluLayout([metaOf(x), inputs[1] && metaOf(inputs[1])], ctx);
  const res = allocData(x.type, x.size); // zeros ('' for strings)
  for (let at = 0; at < x.size; at++) {
    const j = at % L.cols;
    const i = Math.floor(at / L.cols) % L.rows;
    if (keeps(L, i, j)) copyCells(res, at, x.data, at, 1);
  }
  return [new Tensor(x.type, res, x.dims)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'Trilu', hostInputs: [1], inferOutputs: (inputs, ctx) => [triluLayout(inputs, ctx).out], reference },
];
