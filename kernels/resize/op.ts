import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { normalizeAxis, product, requireInput } from '../common/shape.ts';
import { FILL, cellValue, gatherByTables } from '../common/strided.ts';
import { fromNumbers, hostFloats, hostInts, toNumbers } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Resize (opsets 10-19) and the deprecated Upsample. The result is separable: along each resized
 * axis an output index o maps to a source coordinate x (coordinate_transformation_mode), and
 * the output is a weighted sum of input taps around x (nearest: one tap; linear: 2; cubic: 4;
 * antialias widens the filter by 1/scale). Follows the ONNX reference (onnx/reference/ops/op_resize.py).
 */
export type Mode = 'nearest' | 'linear' | 'cubic';

export interface ResizePlan {
  readonly mode: Mode;
  readonly coord: string;
  /** 'simple' is Resize-10/Upsample: floor when upsampling, ceil when downsampling (as onnxruntime) */
  readonly nearest: string;
  readonly cubicA: number;
  readonly excludeOutside: boolean;
  readonly extrapolation: number;
  readonly antialias: boolean;
  readonly inDims: readonly number[];
  readonly outDims: number[];
  /** per axis: the scale used in the coordinate formulas */
  readonly scales: number[];
  readonly roiStart: number[];
  readonly roiEnd: number[];
  /** axes whose output differs from a plain copy */
  readonly resized: number[];
}

const COORD_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

const nonEmpty = <T>(v: T[] | undefined): T[] | undefined => (v && v.length > 0 ? v : undefined);

function modeOf(s: string, ctx: KernelContext): Mode {
  if (s === 'nearest' || s === 'linear' || s === 'cubic') return s;
  if (s === 'bilinear') return 'linear'; // Upsample-7 spelling
  return fail('INVALID_GRAPH', `node '${ctx.node}': resize mode '${s}' is not nearest, linear or cubic`);
}

export function planResize(op: string, x: TensorMeta, ctx: KernelContext): ResizePlan {
  const rank = x.dims.length;
  const a = ctx.attrs;
  // Upsample and Resize-10 take only scales and behave as asymmetric with "simple" nearest.
  const legacy = op === 'Upsample' || ctx.opset < 11;
  let scalesIn: number[] | undefined;
  let sizesIn: number[] | undefined;
  let roi: number[] | undefined;
  if (legacy) scalesIn = op === 'Upsample' && ctx.opset < 9 ? [...(a.floats('scales') ?? [])] : hostFloats(ctx, 1);
  else {
    roi = nonEmpty(hostFloats(ctx, 1));
    scalesIn = nonEmpty(hostFloats(ctx, 2));
    sizesIn = nonEmpty(hostInts(ctx, 3));
  }
  if ((scalesIn === undefined) === (sizesIn === undefined)) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs exactly one of scales and sizes`);
  const axes = (ctx.opset >= 18 && !legacy ? a.ints('axes') : undefined)?.map((ax) => normalizeAxis(ax, rank, ctx)) ?? Array.from({ length: rank }, (_, i) => i);
  if (new Set(axes).size !== axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} axes repeat an axis`);
  const given = (scalesIn ?? sizesIn)!;
  if (given.length !== axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} has ${given.length} ${scalesIn ? 'scales' : 'sizes'} for ${axes.length} axes`);

  const scales = new Array<number>(rank).fill(1);
  const outDims = [...x.dims];
  if (scalesIn) {
    axes.forEach((ax, i) => {
      const s = scalesIn[i]!;
      if (!(s > 0)) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} scale ${s} must be positive`);
      scales[ax] = s;
      outDims[ax] = Math.floor(x.dims[ax]! * s);
    });
  } else {
    const ratios = axes.map((ax, i) => sizesIn![i]! / x.dims[ax]!);
    const policy = a.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((ax, i) => {
        scales[ax] = ratios[i]!;
        outDims[ax] = sizesIn![i]!;
      });
    } else {
      if (policy !== 'not_larger' && policy !== 'not_smaller') fail('INVALID_GRAPH', `node '${ctx.node}': keep_aspect_ratio_policy '${policy}' is not stretch, not_larger or not_smaller`);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const ax of axes) {
        scales[ax] = s;
        outDims[ax] = Math.floor(s * x.dims[ax]! + 0.5);
      }
    }
  }

  const coord = legacy ? 'asymmetric' : a.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORD_MODES.includes(coord)) fail('INVALID_GRAPH', `node '${ctx.node}': coordinate_transformation_mode '${coord}' is not supported`);
  const nearest = legacy ? 'simple' : a.string('nearest_mode', 'round_prefer_floor');
  if (!legacy && !NEAREST_MODES.includes(nearest)) fail('INVALID_GRAPH', `node '${ctx.node}': nearest_mode '${nearest}' is not supported`);
  const roiStart = new Array<number>(rank).fill(0);
  const roiEnd = new Array<number>(rank).fill(1);
  if (coord === 'tf_crop_and_resize') {
    if (!roi || roi.length !== 2 * axes.length) fail('INVALID_GRAPH', `node '${ctx.node}': tf_crop_and_resize needs roi with ${2 * axes.length} values`);
    axes.forEach((ax, i) => {
      roiStart[ax] = roi![i]!;
      roiEnd[ax] = roi![axes.length + i]!;
    });
  }
  const mode = modeOf(a.string('mode', 'nearest'), ctx);
  const antialias = !legacy && a.int('antialias', 0) !== 0;
  if (antialias && mode === 'nearest') fail('INVALID_GRAPH', `node '${ctx.node}': antialias does not apply to nearest mode`);
  const resized = x.dims.map((_, d) => d).filter((d) => scales[d] !== 1 || outDims[d] !== x.dims[d] || coord === 'tf_crop_and_resize');
  for (const d of resized) if (x.dims[d] === 0 && outDims[d]! > 0) fail('INVALID_GRAPH', `node '${ctx.node}': cannot resize the empty axis ${d}`);
  return {
    mode,
    coord,
    nearest,
    cubicA: a.float('cubic_coeff_a', -0.75),
    excludeOutside: !legacy && a.int('exclude_outside', 0) !== 0,
    extrapolation: a.float('extrapolation_value', 0),
    antialias,
    inDims: x.dims,
    outDims,
    scales,
    roiStart,
    roiEnd,
    resized,
  };
}

/** Source coordinate of output index o on axis d (reference _interpolate_1d_with_x). */
function sourceCoord(p: ResizePlan, d: number, o: number): number {
  const s = p.scales[d]!;
  const inW = p.inDims[d]!;
  const outW = s * inW; // a float, as in the reference: it differs from the integer size for scales
  switch (p.coord) {
    case 'align_corners': return outW === 1 ? 0 : (o * (inW - 1)) / (outW - 1);
    case 'asymmetric': return o / s;
    case 'tf_half_pixel_for_nn': return (o + 0.5) / s;
    case 'pytorch_half_pixel': return outW === 1 ? -0.5 : (o + 0.5) / s - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = p.outDims[d]! / outW;
      return (inW / 2) * (1 - adjustment) + (o + 0.5) / s - 0.5;
    }
    case 'tf_crop_and_resize': {
      const r0 = p.roiStart[d]!;
      const r1 = p.roiEnd[d]!;
      const x = outW === 1 ? ((r1 - r0) * (inW - 1)) / 2 : (o * (r1 - r0) * (inW - 1)) / (outW - 1);
      return x + r0 * (inW - 1);
    }
    default: return (o + 0.5) / s - 0.5; // half_pixel
  }
}

/**
 * The same map as x = (o + add) * mul / div + shift, for the GPU. Kept as a division (not a
 * precomputed 1/scale) so that f32 lands exactly on the ties nearest modes break (x.5).
 */
export function coordParams(p: ResizePlan, d: number): [number, number, number, number] {
  const s = p.scales[d]!;
  const inW = p.inDims[d]!;
  const outW = s * inW;
  switch (p.coord) {
    case 'align_corners': return outW === 1 ? [0, 0, 1, 0] : [0, inW - 1, outW - 1, 0];
    case 'asymmetric': return [0, 1, s, 0];
    case 'tf_half_pixel_for_nn': return [0.5, 1, s, 0];
    case 'pytorch_half_pixel': return outW === 1 ? [0, 0, 1, -0.5] : [0.5, 1, s, -0.5];
    case 'half_pixel_symmetric': return [0.5, 1, s, (inW / 2) * (1 - p.outDims[d]! / outW) - 0.5];
    case 'tf_crop_and_resize': {
      const r0 = p.roiStart[d]!;
      const r1 = p.roiEnd[d]!;
      return outW === 1 ? [0, 0, 1, ((r1 - r0) * (inW - 1)) / 2 + r0 * (inW - 1)] : [0, (r1 - r0) * (inW - 1), outW - 1, r0 * (inW - 1)];
    }
    default: return [0.5, 1, s, -0.5];
  }
}

function keys(t: number, A: number): number {
  const x = Math.abs(t);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/** The nearest input index for coordinate x (before clamping). */
function nearestIndex(p: ResizePlan, d: number, x: number): number {
  const f = Math.floor(x);
  if (f === x) return x;
  switch (p.nearest) {
    case 'simple': return p.scales[d]! < 1 ? Math.ceil(x) : f;
    case 'round_prefer_ceil': return x - f < 0.5 ? f : f + 1;
    case 'floor': return f;
    case 'ceil': return f + 1;
    default: return x - f <= 0.5 ? f : f + 1;
  }
}

export interface Taps {
  /** first tap index (unclamped); tap j reads clamp(first + j) */
  first: number;
  weights: number[];
}

/** Taps of output index o on axis d, or undefined where tf_crop_and_resize extrapolates (the wasm kernel tabulates them too). */
export function tapsOf(p: ResizePlan, d: number, o: number): Taps | undefined {
  const n = p.inDims[d]!;
  const x = sourceCoord(p, d, o);
  if (p.coord === 'tf_crop_and_resize' && (x < 0 || x > n - 1)) return undefined;
  if (p.mode === 'nearest') return { first: nearestIndex(p, d, x), weights: [1] };
  // The reference takes the taps left of x first: ratio is in (0, 1], 1 when x is an integer.
  const i0 = Math.ceil(x) - 1;
  const ratio = x - i0;
  const support = p.mode === 'linear' ? 1 : 2;
  const scale = p.antialias ? Math.min(1, p.scales[d]!) : 1;
  const start = Math.floor(-support / scale) + 1;
  const count = 2 - 2 * start;
  const kernel = p.mode === 'linear' ? (t: number): number => Math.max(0, 1 - Math.abs(t)) : (t: number): number => keys(t, p.cubicA);
  const weights = Array.from({ length: count }, (_, j) => kernel((start + j - ratio) * scale));
  const first = i0 + start;
  if (p.antialias || p.excludeOutside) {
    if (p.excludeOutside) for (let j = 0; j < count; j++) if (first + j < 0 || first + j >= n) weights[j] = 0;
    const sum = weights.reduce((s, w) => s + w, 0);
    for (let j = 0; j < count; j++) weights[j]! /= sum;
  }
  return { first, weights };
}

const clampIndex = (i: number, n: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** The reference (the CPU code was already plain: per-axis index tables or one float64 pass per axis). */
function resizeReference(p: ResizePlan, x: AnyTensor): AnyTensor {
  if (p.mode === 'nearest') {
    // A pure index map: copy exactly (any dtype), filling where tf_crop_and_resize extrapolates.
    const strides = stridesOf(p.inDims);
    const tables = p.outDims.map((len, d) => {
      const t = new Int32Array(len);
      const resized = p.resized.includes(d);
      for (let o = 0; o < len; o++) {
        const taps = resized ? tapsOf(p, d, o) : { first: o, weights: [1] };
        t[o] = taps ? clampIndex(taps.first, p.inDims[d]!) * strides[d]! : FILL;
      }
      return t;
    });
    return gatherByTables(x, p.outDims, tables, cellValue(x.type, p.extrapolation));
  }
  // Separable: resize one axis at a time in float64.
  let cur = toNumbers(x);
  const dims = [...p.inDims];
  for (const d of p.resized) {
    const n = dims[d]!;
    const len = p.outDims[d]!;
    const outer = product(dims, 0, d);
    const inner = product(dims, d + 1);
    const next = new Float64Array(outer * len * inner);
    for (let o = 0; o < len; o++) {
      const taps = tapsOf(p, d, o);
      for (let r = 0; r < outer; r++) {
        const dst = (r * len + o) * inner;
        if (!taps) {
          next.fill(p.extrapolation, dst, dst + inner);
          continue;
        }
        taps.weights.forEach((w, j) => {
          if (w === 0) return;
          const src = (r * n + clampIndex(taps.first + j, n)) * inner;
          for (let i = 0; i < inner; i++) next[dst + i]! += w * cur[src + i]!;
        });
      }
    }
    cur = next;
    dims[d] = len;
  }
  return fromNumbers(x.type, p.outDims, cur);
}

function definitionOf(op: string, hostInputs: readonly number[]): OpDefinition {
  const infer = (inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] => {
    const x = requireInput(inputs, 0, ctx);
    return [{ dtype: x.dtype, dims: planResize(op, x, ctx).outDims }];
  };
  return {
    opType: op,
    hostInputs,
    inferOutputs: infer,
    reference(inputs, ctx) {
      const x = inputs[0]!;
      return [resizeReference(planResize(op, { dtype: x.type, dims: x.dims }, ctx), x)];
    },
  };
}

export const definitions: readonly OpDefinition[] = [definitionOf('Resize', [1, 2, 3]), definitionOf('Upsample', [1])];
