import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { broadcastShapes, product, requireInput } from '../common/shape.ts';
import { stridedCopy } from '../common/strided.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { hostInts } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * Expand: numpy broadcasting of the input against the shape input (either side may be larger, so
 * a 1 in the shape keeps the input's dim). The output is an affine view with stride 0 on the
 * broadcast axes.
 */
function expandView(x: TensorMeta, ctx: KernelContext): { dims: number[]; strides: number[] } {
  const shape = hostInts(ctx, 1);
  if (!shape) return fail('INVALID_GRAPH', `node '${ctx.node}': Expand needs a shape`);
  if (shape.some((d) => d < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': Expand shape [${shape.join(', ')}] has a negative dim`);
  const dims = broadcastShapes([x.dims, shape], ctx);
  const inStrides = stridesOf(x.dims);
  const shift = dims.length - x.dims.length;
  const strides = dims.map((_, d) => (d < shift || x.dims[d - shift] === 1 ? 0 : inStrides[d - shift]!));
  return { dims, strides };
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'Expand',
    hostInputs: [1],
    inferOutputs(inputs: readonly MaybeMeta[], ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: expandView(x, ctx).dims }];
    },
    cpu(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const v = expandView({ dtype: x.type, dims: x.dims }, ctx);
      return [stridedCopy(x, v.dims, v.strides)];
    },
    webgpu(inputs, _outputs, ctx) {
      const x = inputs[0]!;
      const v = expandView(x, ctx);
      if (product(v.dims) === 0) return { kind: 'programs', programs: [] };
      return { kind: 'programs', programs: [stridedGatherProgram(ctx, `Expand:${ctx.node}`, x, 0, v.dims, v.strides, 0)] };
    },
  },
];
