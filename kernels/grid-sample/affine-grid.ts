import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * AffineGrid (opset 20): the sampling grid GridSample consumes, theta [N, 2, 3] (or [N, 3, 4])
 * applied to the normalized coordinates of each output place, last axis (x, y[, z]) = width
 * first. Coordinates: -1 + 2 i / (s - 1) with align_corners (-1 when s = 1), else
 * (2 i + 1) / s - 1, as PyTorch's affine_grid. Reference only (CPU in WebGPU sessions).
 */

function gridMeta(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; spatial: number[] } {
  const theta = requireInput(inputs, 0, ctx);
  requireType(theta, FLOAT_TYPES, ctx, 'theta');
  requireType(requireInput(inputs, 1, ctx), ['int64'], ctx, 'size');
  const size = hostInts(ctx, 1);
  if (!size) return fail('INVALID_GRAPH', `node '${ctx.node}': AffineGrid needs the value of size`);
  const r = size.length - 2;
  if ((r !== 2 && r !== 3) || theta.dims.length !== 3 || theta.dims[0] !== size[0] || theta.dims[1] !== r || theta.dims[2] !== r + 1) {
    fail('INVALID_GRAPH', `node '${ctx.node}': AffineGrid needs size [N, C, H, W] with theta [N, 2, 3] (or 5 sizes with [N, 3, 4]), got size [${size.join(', ')}] and theta [${theta.dims.join(', ')}]`);
  }
  const spatial = size.slice(2);
  return { out: { dtype: theta.dtype, dims: [size[0]!, ...spatial, r] }, spatial };
}

const affineGrid: OpDefinition = {
  opType: 'AffineGrid',
  hostInputs: [1],
  inferOutputs: (inputs, ctx) => [gridMeta(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const { out, spatial } = gridMeta(inputs.map((t) => t && metaOf(t)), ctx);
    const theta = toNumbers(inputs[0]!);
    const align = ctx.attrs.int('align_corners', 0) !== 0;
    const r = spatial.length;
    const coord = (i: number, s: number): number => (align ? (s === 1 ? -1 : -1 + (2 * i) / (s - 1)) : (2 * i + 1) / s - 1);
    const points = product(spatial);
    const res = new Float64Array(product(out.dims));
    for (let n = 0; n < out.dims[0]!; n++) {
      for (let p = 0; p < points; p++) {
        // homogeneous coordinates, width first: (x, y[, z], 1)
        let rest = p;
        const idx = new Array<number>(r);
        for (let d = r - 1; d >= 0; d--) {
          idx[d] = rest % spatial[d]!;
          rest = Math.floor(rest / spatial[d]!);
        }
        const h = [...idx.map((i, d) => coord(i, spatial[d]!)).reverse(), 1];
        for (let row = 0; row < r; row++) {
          let v = 0;
          for (let k = 0; k <= r; k++) v += theta[(n * r + row) * (r + 1) + k]! * h[k]!;
          res[(n * points + p) * r + row] = v;
        }
      }
    }
    return [fromNumbers(out.dtype, out.dims, res)];
  },
};

export const definitions: readonly OpDefinition[] = [affineGrid];
