import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { definitions as affineGrid } from './affine-grid.ts';

/**
 * GridSample (opsets 16, 20, 22): samples X [N, C, D1..Dr] at the normalized coordinates of grid
 * [N, O1..Or, r] (last axis in reverse dimension order: x = width first). Follows the ONNX
 * reference (PyTorch's grid_sampler): coordinates unnormalized with or without align_corners;
 * nearest rounds half to even; out-of-range coordinates clamp (border) or reflect (reflection),
 * except in cubic mode, where onnxruntime (like PyTorch) pads only the taps; then each tap reads
 * zero outside (zeros), the clamped pixel (border) or the reflected one.
 * linear / cubic (opset 16: bilinear / bicubic) are separable: a sum over 2^r or 4^r taps.
 */

export type GridMode = 'nearest' | 'linear' | 'cubic';
export type Padding = 'zeros' | 'border' | 'reflection';

export interface GridLayout {
  readonly out: TensorMeta;
  readonly mode: GridMode;
  readonly padding: Padding;
  readonly alignCorners: boolean;
  /** spatial dims of X */
  readonly spatial: readonly number[];
  /** output spatial dims (grid's middle axes) */
  readonly points: number;
}

const MODES: Readonly<Record<string, GridMode>> = { nearest: 'nearest', linear: 'linear', bilinear: 'linear', cubic: 'cubic', bicubic: 'cubic' };

export function gridLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): GridLayout {
  const x = requireInput(inputs, 0, ctx);
  const grid = requireInput(inputs, 1, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  requireType(grid, FLOAT_TYPES, ctx, 'grid');
  const r = x.dims.length - 2;
  if (r < 1 || (ctx.opset < 20 && r !== 2)) fail('INVALID_GRAPH', `node '${ctx.node}': GridSample X must be [N, C, ${ctx.opset < 20 ? 'H, W' : 'D1, ...'}], got dims [${x.dims.join(', ')}]`);
  if (grid.dims.length !== r + 2 || grid.dims[0] !== x.dims[0] || grid.dims[r + 1] !== r) {
    fail('INVALID_GRAPH', `node '${ctx.node}': GridSample grid must be [${x.dims[0]}, ...${r} output dims, ${r}], got dims [${grid.dims.join(', ')}]`);
  }
  const modeName = ctx.attrs.string('mode', ctx.opset < 20 ? 'bilinear' : 'linear');
  const allowed = ctx.opset < 20 ? ['bilinear', 'nearest', 'bicubic'] : ['linear', 'nearest', 'cubic'];
  const mode = MODES[modeName];
  if (!mode || !allowed.includes(modeName)) fail('INVALID_GRAPH', `node '${ctx.node}': GridSample mode '${modeName}' is not one of ${allowed.join(', ')} (opset ${ctx.opset})`);
  const padding = ctx.attrs.string('padding_mode', 'zeros');
  if (!['zeros', 'border', 'reflection'].includes(padding)) fail('INVALID_GRAPH', `node '${ctx.node}': GridSample padding_mode '${padding}' is not one of zeros, border, reflection`);
  const outSpatial = grid.dims.slice(1, r + 1);
  return {
    out: { dtype: x.dtype, dims: [x.dims[0]!, x.dims[1]!, ...outSpatial] },
    mode,
    padding: padding as Padding,
    alignCorners: ctx.attrs.int('align_corners', 0) !== 0,
    spatial: x.dims.slice(2),
    points: product(outSpatial),
  };
}

/** Reflects x by the nearer border until it lies within [lo, hi]. */
export function reflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.floor(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.floor(dx / range);
    const r = dx - n * range;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Keys' cubic convolution weights (A = -0.75) of the 4 taps around a point at fraction t. */
export function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.75;
  const w = (x: number): number => {
    const ax = Math.abs(x);
    if (ax <= 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
    return ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a;
  };
  return [w(t + 1), w(t), w(1 - t), w(2 - t)];
}

const roundHalfEven = (v: number): number => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [xt, gt] = [inputs[0]!, inputs[1]!];
  const L = gridLayout([metaOf(xt), metaOf(gt)], ctx);
  const x = toNumbers(xt);
  const g = toNumbers(gt);
  const r = L.spatial.length;
  const [n, c] = [xt.dims[0]!, xt.dims[1]!];
  const plane = product(L.spatial);
  const lo = L.spatial.map(() => (L.alignCorners ? 0 : -0.5));
  const hi = L.spatial.map((d) => (L.alignCorners ? d - 1 : d - 0.5));
  const res = new Float64Array(product(L.out.dims));
  // pixel index along dim d after padding, or -1 for a zero read
  const place = (i: number, d: number): number => {
    const size = L.spatial[d]!;
    if (L.padding === 'zeros') return i >= 0 && i < size ? i : -1;
    if (L.padding === 'border') return Math.min(Math.max(i, 0), size - 1);
    return Math.trunc(reflect(i, lo[d]!, hi[d]!));
  };
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < L.points; p++) {
      // spatial coordinate per dim (grid's last axis is reversed: its entry 0 is the last dim)
      const coords = L.spatial.map((size, d) => {
        const v = g[(b * L.points + p) * r + (r - 1 - d)]!;
        let u = L.alignCorners ? ((v + 1) / 2) * (size - 1) : ((v + 1) * size - 1) / 2;
        if (L.mode === 'nearest') u = roundHalfEven(u);
        // cubic taps are padded one by one, never the coordinate (PyTorch's and onnxruntime's rule)
        if (L.mode !== 'cubic' && (u < lo[d]! || u > hi[d]!)) {
          if (L.padding === 'border') u = Math.min(Math.max(u, 0), size - 1);
          else if (L.padding === 'reflection') u = reflect(u, lo[d]!, hi[d]!);
        }
        return u;
      });
      // taps per dim: [index, weight]
      const taps = coords.map((u): [number, number][] => {
        if (L.mode === 'nearest') return [[Math.trunc(u), 1]];
        const f = Math.floor(u);
        if (L.mode === 'linear') return [[f, 1 - (u - f)], [f + 1, u - f]];
        const w = cubicWeights(u - f);
        return [[f - 1, w[0]], [f, w[1]], [f + 1, w[2]], [f + 2, w[3]]];
      });
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * plane;
        let sum = 0;
        const walk = (d: number, off: number, weight: number): void => {
          if (d === r) {
            sum += weight * (off < 0 ? 0 : x[base + off]!);
            return;
          }
          for (const [i, w] of taps[d]!) {
            const at = place(i, d);
            walk(d + 1, off < 0 || at < 0 ? -1 : off * L.spatial[d]! + at, weight * w);
          }
        };
        walk(0, 0, 1);
        res[(b * c + ch) * L.points + p] = sum;
      }
    }
  }
  return [fromNumbers(xt.type, L.out.dims, res)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'GridSample', inferOutputs: (inputs, ctx) => [gridLayout(inputs, ctx).out], reference },
  ...affineGrid,
];
