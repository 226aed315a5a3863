import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/** Where(condition, X, Y): X where condition is true, else Y, all three broadcast together. */

/** Any tensor storage seen as indexable cells, so one loop selects every dtype, strings included. */
type Cells = { [i: number]: number | bigint | string; readonly length: number };

export function inferWhere(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const c = requireInput(inputs, 0, ctx);
  const x = requireInput(inputs, 1, ctx);
  const y = requireInput(inputs, 2, ctx);
  requireType(c, ['bool'], ctx, 'condition');
  if (x.dtype !== y.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Where X and Y have different types (${x.dtype}, ${y.dtype})`);
  return [{ dtype: x.dtype, dims: broadcastShapes([c.dims, x.dims, y.dims], ctx) }];
}

/** The reference: each output cell picks from X or Y through the broadcast index maps. */
const reference: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const [c, x, y] = [inputs[0]!, inputs[1]!, inputs[2]!];
  const out = inferWhere([metaOf(c), metaOf(x), metaOf(y)], ctx)[0]!;
  const cm = broadcastIndexMap(out.dims, c.dims);
  const xm = broadcastIndexMap(out.dims, x.dims);
  const ym = broadcastIndexMap(out.dims, y.dims);
  const data = allocData(out.dtype, (cm ?? xm ?? ym)?.length ?? c.size);
  const o: Cells = data;
  const cs = c.data as Uint8Array;
  const xs: Cells = x.data;
  const ys: Cells = y.data;
  for (let i = 0; i < o.length; i++) o[i] = cs[cm ? cm[i]! : i] ? xs[xm ? xm[i]! : i]! : ys[ym ? ym[i]! : i]!;
  return [new Tensor(out.dtype, data, out.dims)];
};

export const definitions: readonly OpDefinition[] = [{ opType: 'Where', inferOutputs: inferWhere, reference }];
