import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { product, requireInput, requireType } from '../common/shape.ts';
import { copyCells, rowMajorStrides } from '../common/strided.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * ReverseSequence: for each batch entry b, the first sequence_lens[b] steps along the time axis
 * reversed, the rest copied. time_axis and batch_axis are 0 and 1 in either order. Reference
 * only (CPU in WebGPU sessions).
 */

function layout(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; time: number; batch: number } {
  const x = requireInput(inputs, 0, ctx);
  const lens = requireInput(inputs, 1, ctx);
  requireType(lens, ['int64'], ctx, 'sequence_lens');
  const time = ctx.attrs.int('time_axis', 0);
  const batch = ctx.attrs.int('batch_axis', 1);
  if (x.dims.length < 2 || ![0, 1].includes(time) || ![0, 1].includes(batch) || time === batch) {
    fail('INVALID_GRAPH', `node '${ctx.node}': ReverseSequence needs rank >= 2 and time_axis/batch_axis 0 and 1 (got ${time}, ${batch}, dims [${x.dims.join(', ')}])`);
  }
  if (lens.dims.length !== 1 || lens.dims[0] !== x.dims[batch]) fail('INVALID_GRAPH', `node '${ctx.node}': sequence_lens must be [${x.dims[batch]}], got dims [${lens.dims.join(', ')}]`);
  return { out: { dtype: x.dtype, dims: x.dims }, time, batch };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'ReverseSequence',
    inferOutputs: (inputs, ctx) => [layout(inputs, ctx).out],
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const L = layout([metaOf(x), metaOf(inputs[1]!)], ctx);
      const lens = toNumbers(inputs[1]!);
      const strides = rowMajorStrides(x.dims);
      const inner = product(x.dims, 2);
      const res = allocData(x.type, x.size);
      for (let t = 0; t < x.dims[L.time]!; t++) {
        for (let b = 0; b < x.dims[L.batch]!; b++) {
          const len = lens[b]!;
          if (!(len >= 1 && len <= x.dims[L.time]!)) fail('INVALID_ARGUMENT', `node '${ctx.node}': sequence length ${len} is outside [1, ${x.dims[L.time]}]`);
          const from = t < len ? len - 1 - t : t;
          copyCells(res, t * strides[L.time]! + b * strides[L.batch]!, x.data, from * strides[L.time]! + b * strides[L.batch]!, inner);
        }
      }
      return [new Tensor(x.type, res, x.dims)];
    },
  },
];
