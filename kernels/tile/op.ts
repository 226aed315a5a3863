import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { gatherEach } from '../common/each-index.ts';
import { requireInput } from '../common/shape.ts';
import { rowMajorStrides } from '../common/strided.ts';
import { hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Tile: [d0, d1, ...] repeated [r0, r1, ...] is, in row-major order, the rank-2n view
 * [r0, d0, r1, d1, ...] of the input with stride 0 on every repeat axis, so it needs no modulo
 * (what js.ts and webgpu.ts copy). The reference is the definition: out[i] = x[i mod dims].
 */
export function tileView(x: TensorMeta, ctx: KernelContext): { out: number[]; dims: number[]; strides: number[] } {
  const repeats = hostInts(ctx, 1);
  if (!repeats) return fail('INVALID_GRAPH', `node '${ctx.node}': Tile needs repeats`);
  if (repeats.length !== x.dims.length || repeats.some((r) => r < 0)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Tile repeats [${repeats.join(', ')}] must be ${x.dims.length} non-negative values`);
  }
  const s = rowMajorStrides(x.dims);
  return {
    out: x.dims.map((d, i) => d * repeats[i]!),
    dims: x.dims.flatMap((d, i) => [repeats[i]!, d]),
    strides: x.dims.flatMap((_, i) => [0, s[i]!]),
  };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'Tile',
    hostInputs: [1],
    inferOutputs(inputs: readonly MaybeMeta[], ctx) {
      const x = requireInput(inputs, 0, ctx);
      return [{ dtype: x.dtype, dims: tileView(x, ctx).out }];
    },
    reference(inputs, ctx): AnyTensor[] {
      const x = inputs[0]!;
      const { out } = tileView(metaOf(x), ctx);
      const inStrides = rowMajorStrides(x.dims);
      return [gatherEach(x, out, (idx) => idx.reduce((off, i, d) => off + (i % x.dims[d]!) * inStrides[d]!, 0))];
    },
  },
];
