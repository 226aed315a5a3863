import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { gatherEach } from '../common/each-index.ts';
import { broadcastShapes, requireInput } from '../common/shape.ts';
import { rowMajorStrides } from '../common/strided.ts';
import { hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Expand: numpy broadcasting of the input against the shape input (either side may be larger, so
 * a 1 in the shape keeps the input's dim). The output is an affine view with stride 0 on the
 * broadcast axes (what js.ts and webgpu.ts copy); the reference reads index 0 on every axis where
 * the input has size 1.
 */
export function expandView(x: TensorMeta, ctx: KernelContext): { dims: number[]; strides: number[] } {
  const shape = hostInts(ctx, 1);
  if (!shape) return fail('INVALID_GRAPH', `node '${ctx.node}': Expand needs a shape`);
  if (shape.some((d) => d < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': Expand shape [${shape.join(', ')}] has a negative dim`);
  const dims = broadcastShapes([x.dims, shape], ctx);
  const inStrides = rowMajorStrides(x.dims);
  const shift = dims.length - x.dims.length;
  const strides = dims.map((_, d) => (d < shift || x.dims[d - shift] === 1 ? 0 : inStrides[d - shift]!));
  return { dims, strides };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Expand',
    hostInputs: [1],
    inferOutputs(inputs: readonly MaybeMeta[], ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: expandView(x, ctx).dims }];
    },
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const { dims } = expandView(metaOf(x), ctx);
      const inStrides = rowMajorStrides(x.dims);
      const shift = dims.length - x.dims.length;
      // input axis d lines up with output axis d + shift; a size-1 input axis always reads index 0
      const sourceOf = (idx: readonly number[]): number => x.dims.reduce((off, n, d) => off + (n === 1 ? 0 : idx[d + shift]!) * inStrides[d]!, 0);
      return [gatherEach(x, dims, sourceOf)];
    },
  },
];
