import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product } from '../common/shape.ts';
import { copyCells } from '../common/strided.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/** Concat: inputs joined along one axis. The reference copies each input's rows into place. */

export function inferConcat(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; axis: number } {
  const given = inputs.filter((m): m is TensorMeta => m !== undefined);
  const first = given[0];
  if (!first) return fail('INVALID_GRAPH', `node '${ctx.node}': Concat needs at least one input`);
  const axisAttr = ctx.attrs.int('axis');
  // Concat-1 defaulted to axis 1; from opset 4 the attribute is required.
  if (axisAttr === undefined && ctx.opset >= 4) fail('INVALID_GRAPH', `node '${ctx.node}': Concat needs an axis`);
  const rank = first.dims.length;
  const axis = normalizeAxis(axisAttr ?? 1, rank, ctx);
  let total = 0;
  given.forEach((m, i) => {
    if (m.dtype !== first.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': Concat input #${i} is ${m.dtype}, expected ${first.dtype}`);
    if (m.dims.length !== rank || m.dims.some((d, k) => k !== axis && d !== first.dims[k])) {
      fail('INVALID_GRAPH', `node '${ctx.node}': Concat input #${i} has shape [${m.dims.join(', ')}], incompatible with [${first.dims.join(', ')}] on axis ${axis}`);
    }
    total += m.dims[axis]!;
  });
  const dims = [...first.dims];
  dims[axis] = total;
  return { out: { dtype: first.dtype, dims }, axis };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Concat',
    inferOutputs: (inputs, ctx) => [inferConcat(inputs, ctx).out],
    reference(inputs, ctx): AnyTensor[] {
      const { out, axis } = inferConcat(inputs.map((t) => t && { dtype: t.type, dims: t.dims }), ctx);
      const data = allocData(out.dtype, product(out.dims));
      const outer = product(out.dims, 0, axis);
      const inner = product(out.dims, axis + 1);
      const rowOut = out.dims[axis]! * inner;
      let start = 0;
      for (const t of inputs) {
        if (!t) continue;
        const row = t.dims[axis]! * inner;
        for (let r = 0; r < outer; r++) copyCells(data, r * rowOut + start, t.data, r * row, row);
        start += row;
      }
      return [new Tensor(out.dtype, data, out.dims)];
    },
  },
];
