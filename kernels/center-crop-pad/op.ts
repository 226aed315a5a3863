import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, requireInput, requireType } from '../common/shape.ts';
import { FILL, cellValue, gatherByTables, rowMajorStrides } from '../common/strided.ts';
import { hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * CenterCropPad (opset 18): each listed axis is cropped (centered, the extra element dropped from
 * the end) or zero-padded (centered, the extra element added at the end) to its target size. The
 * reference is a table gather (kernels/common/strided.ts); there is no WGSL kernel yet, so it runs
 * on the CPU in WebGPU sessions.
 */

function targetDims(inputs: readonly MaybeMeta[], ctx: KernelContext): number[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(requireInput(inputs, 1, ctx), ['int64', 'int32'], ctx, 'shape');
  const shape = hostInts(ctx, 1);
  if (!shape) return fail('INVALID_GRAPH', `node '${ctx.node}': CenterCropPad needs the value of shape`);
  const axes = (ctx.attrs.ints('axes') ?? x.dims.map((_, i) => i)).map((a) => normalizeAxis(a, x.dims.length, ctx));
  if (shape.length !== axes.length || shape.some((s) => s < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': CenterCropPad shape [${shape.join(', ')}] must give ${axes.length} sizes >= 0`);
  if (new Set(axes).size !== axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': CenterCropPad axes [${axes.join(', ')}] repeat an axis`);
  const dims = [...x.dims];
  axes.forEach((a, i) => (dims[a] = shape[i]!));
  return dims;
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'CenterCropPad',
    hostInputs: [1],
    inferOutputs: (inputs, ctx): TensorMeta[] => [{ dtype: requireInput(inputs, 0, ctx).dtype, dims: targetDims(inputs, ctx) }],
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const out = targetDims([metaOf(x), metaOf(inputs[1]!)], ctx);
      const strides = rowMajorStrides(x.dims);
      const tables = out.map((t, d) => {
        const s = x.dims[d]!;
        const table = new Int32Array(t);
        for (let o = 0; o < t; o++) {
          const i = t <= s ? o + Math.floor((s - t) / 2) : o - Math.floor((t - s) / 2);
          table[o] = i >= 0 && i < s ? i * strides[d]! : FILL;
        }
        return table;
      });
      return [gatherByTables(x, out, tables, x.type === 'string' ? '' : cellValue(x.type, 0))];
    },
  },
];
