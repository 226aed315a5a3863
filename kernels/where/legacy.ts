import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { broadcastIndexMap, broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/** Where(condition, X, Y): X where condition is true, else Y, all three broadcast together. */

/** Any tensor storage seen as indexable cells, so one loop selects every dtype, strings included. */
type Cells = { [i: number]: number | bigint | string; readonly length: number };

function infer(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const c = requireInput(inputs, 0, ctx);
  const x = requireInput(inputs, 1, ctx);
  const y = requireInput(inputs, 2, ctx);
  requireType(c, ['bool'], ctx, 'condition');
  if (x.dtype !== y.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Where X and Y have different types (${x.dtype}, ${y.dtype})`);
  return [{ dtype: x.dtype, dims: broadcastShapes([c.dims, x.dims, y.dims], ctx) }];
}

const where: LegacyOpKernel = {
  opType: 'Where',
  inferOutputs: infer,
  cpu(inputs, ctx): AnyTensor[] {
    const [c, x, y] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const out = infer([metaOf(c), metaOf(x), metaOf(y)], ctx)[0]!;
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
  },
  webgpu(inputs, outputs, ctx) {
    const out = outputs[0]!;
    const b = new ShaderBuilder(ctx.caps);
    const C = b.input('C', inputs[0]!, 0);
    const X = b.input('X', inputs[1]!, 1);
    const Y = b.input('Y', inputs[2]!, 2);
    const O = b.output('O', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
    const n = b.uniform('n', 'u32', O.size);
    const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
    const metas = [inputs[0]!, inputs[1]!, inputs[2]!];
    const needIdx = !metas.every(same);
    // equal-shape operands read at global_idx; others through the broadcast helper (rank-generic)
    const at = (v: TensorVar, m: TensorMeta): string => v.get(same(m) ? 'global_idx' : v.broadcastedOffset(O, 'idx'));
    const body = [
      `  if (global_idx >= ${n}) { return; }`,
      needIdx ? `  let idx = ${O.offsetToIndices('global_idx')};` : '',
      `  ${O.set('global_idx', `select(${at(Y, metas[2]!)}, ${at(X, metas[1]!)}, ${at(C, metas[0]!)} != 0u)`)}`,
    ].join('\n');
    return { kind: 'programs', programs: [b.build({ label: `Where:${ctx.node}`, body, totalInvocations: O.size })] };
  },
};

export const kernels: readonly LegacyOpKernel[] = [where];
