import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { product, requireInput } from '../common/shape.ts';
import { stridedCopy } from '../common/strided.ts';
import { stridedGatherProgram } from '../webgpu/strided-gather.ts';
import { hostInts } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * Tile: [d0, d1, ...] repeated [r0, r1, ...] is, in row-major order, the rank-2n view
 * [r0, d0, r1, d1, ...] of the input with stride 0 on every repeat axis, so it needs no modulo.
 */
function tileView(x: TensorMeta, ctx: KernelContext): { out: number[]; dims: number[]; strides: number[] } {
  const repeats = hostInts(ctx, 1);
  if (!repeats) return fail('INVALID_GRAPH', `node '${ctx.node}': Tile needs repeats`);
  if (repeats.length !== x.dims.length || repeats.some((r) => r < 0)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Tile repeats [${repeats.join(', ')}] must be ${x.dims.length} non-negative values`);
  }
  const s = stridesOf(x.dims);
  return {
    out: x.dims.map((d, i) => d * repeats[i]!),
    dims: x.dims.flatMap((d, i) => [repeats[i]!, d]),
    strides: x.dims.flatMap((_, i) => [0, s[i]!]),
  };
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'Tile',
    hostInputs: [1],
    inferOutputs(inputs: readonly MaybeMeta[], ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: tileView(x, ctx).out }];
    },
    cpu(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const v = tileView({ dtype: x.type, dims: x.dims }, ctx);
      return [stridedCopy(x, v.dims, v.strides, 0, v.out)];
    },
    webgpu(inputs, _outputs, ctx) {
      const x = inputs[0]!;
      const v = tileView(x, ctx);
      if (product(v.out) === 0) return { kind: 'programs', programs: [] };
      return { kind: 'programs', programs: [stridedGatherProgram(ctx, `Tile:${ctx.node}`, x, 0, v.dims, v.strides, 0)] };
    },
  },
];
