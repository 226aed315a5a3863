import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * RoiAlign (opsets 10 and 16): each region of interest of X [N, C, H, W] pooled to
 * [output_height, output_width] by averaging (or taking the max of) bilinear samples on a regular
 * grid in each bin, as onnxruntime computes it (Detectron's RoIAlign): samples outside
 * [-1, size] read 0, coordinates are clamped to the image, max mode takes the largest weighted
 * corner, and with output_half_pixel (opset 10's only mode) regions are at least 1x1.
 */

export interface RoiLayout {
  readonly out: TensorMeta;
  readonly rois: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly outH: number;
  readonly outW: number;
  readonly samplingRatio: number;
  readonly scale: number;
  readonly halfPixel: boolean;
  readonly max: boolean;
}

export function roiLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): RoiLayout {
  const x = requireInput(inputs, 0, ctx);
  const rois = requireInput(inputs, 1, ctx);
  const idx = requireInput(inputs, 2, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  requireType(rois, [x.dtype], ctx, 'rois');
  requireType(idx, ['int64', 'int32'], ctx, 'batch_indices');
  if (x.dims.length !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign X must be [N, C, H, W], got dims [${x.dims.join(', ')}]`);
  const n = rois.dims[0];
  if (rois.dims.length !== 2 || rois.dims[1] !== 4) fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign rois must be [num_rois, 4], got dims [${rois.dims.join(', ')}]`);
  if (idx.dims.length !== 1 || idx.dims[0] !== n) fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign batch_indices must be [${n}], got dims [${idx.dims.join(', ')}]`);
  const mode = ctx.attrs.string('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign mode '${mode}' is not avg or max`);
  const ctm = ctx.attrs.string('coordinate_transformation_mode', ctx.opset >= 16 ? 'half_pixel' : 'output_half_pixel');
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign coordinate_transformation_mode '${ctm}' is not half_pixel or output_half_pixel`);
  const outH = ctx.attrs.int('output_height', 1);
  const outW = ctx.attrs.int('output_width', 1);
  const samplingRatio = ctx.attrs.int('sampling_ratio', 0);
  if (outH < 1 || outW < 1 || samplingRatio < 0) fail('INVALID_GRAPH', `node '${ctx.node}': RoiAlign output sizes must be >= 1 and sampling_ratio >= 0 (got ${outH}, ${outW}, ${samplingRatio})`);
  const [, c, h, w] = x.dims as [number, number, number, number];
  return {
    out: { dtype: x.dtype, dims: [n!, c, outH, outW] },
    rois: n!,
    channels: c,
    height: h,
    width: w,
    outH,
    outW,
    samplingRatio,
    scale: ctx.attrs.float('spatial_scale', 1),
    halfPixel: ctm === 'half_pixel',
    max: mode === 'max',
  };
}

/** The region's start, bin size and sample grid per axis. */
export function roiGeometry(L: RoiLayout, box: readonly number[]): { y0: number; x0: number; binH: number; binW: number; gridH: number; gridW: number } {
  const offset = L.halfPixel ? 0.5 : 0;
  const [x1, y1, x2, y2] = box.map((v) => v * L.scale - offset) as [number, number, number, number];
  let [rw, rh] = [x2 - x1, y2 - y1];
  if (!L.halfPixel) [rw, rh] = [Math.max(rw, 1), Math.max(rh, 1)];
  const [binH, binW] = [rh / L.outH, rw / L.outW];
  return {
    y0: y1,
    x0: x1,
    binH,
    binW,
    gridH: L.samplingRatio > 0 ? L.samplingRatio : Math.ceil(rh / L.outH),
    gridW: L.samplingRatio > 0 ? L.samplingRatio : Math.ceil(rw / L.outW),
  };
}

/** Bilinear corners (flat offsets in one H x W plane) and weights of a sample, or none outside. */
export function sampleAt(y: number, x: number, h: number, w: number): { at: number[]; wt: number[] } | undefined {
  if (y < -1 || y > h || x < -1 || x > w) return undefined;
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let [yl, xl] = [Math.trunc(y), Math.trunc(x)];
  let yh: number;
  let xh: number;
  if (yl >= h - 1) {
    yh = yl = h - 1;
    y = yl;
  } else yh = yl + 1;
  if (xl >= w - 1) {
    xh = xl = w - 1;
    x = xl;
  } else xh = xl + 1;
  const [ly, lx] = [y - yl, x - xl];
  const [hy, hx] = [1 - ly, 1 - lx];
  return { at: [yl * w + xl, yl * w + xh, yh * w + xl, yh * w + xh], wt: [hy * hx, hy * lx, ly * hx, ly * lx] };
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const L = roiLayout(inputs.map((t) => t && metaOf(t)), ctx);
  const [x, rois, idx] = [toNumbers(inputs[0]!), toNumbers(inputs[1]!), toNumbers(inputs[2]!)];
  const batches = inputs[0]!.dims[0]!;
  const plane = L.height * L.width;
  const res = new Float64Array(L.rois * L.channels * L.outH * L.outW);
  for (let r = 0; r < L.rois; r++) {
    const b = idx[r]!;
    if (!(b >= 0 && b < batches)) fail('INVALID_ARGUMENT', `node '${ctx.node}': RoiAlign batch index ${b} is out of range for ${batches} images`);
    const g = roiGeometry(L, Array.from(rois.subarray(r * 4, r * 4 + 4)));
    const count = Math.max(g.gridH * g.gridW, 1);
    for (let c = 0; c < L.channels; c++) {
      const base = (b * L.channels + c) * plane;
      for (let ph = 0; ph < L.outH; ph++) {
        for (let pw = 0; pw < L.outW; pw++) {
          let acc = 0;
          let first = true;
          for (let iy = 0; iy < g.gridH; iy++) {
            const y = g.y0 + ph * g.binH + ((iy + 0.5) * g.binH) / g.gridH;
            for (let ix = 0; ix < g.gridW; ix++) {
              const xx = g.x0 + pw * g.binW + ((ix + 0.5) * g.binW) / g.gridW;
              const s = sampleAt(y, xx, L.height, L.width);
              const terms = s ? s.at.map((a, k) => s.wt[k]! * x[base + a]!) : [0, 0, 0, 0];
              if (L.max) {
                const v = Math.max(...terms);
                acc = first ? v : Math.max(acc, v);
                first = false;
              } else acc += terms[0]! + terms[1]! + terms[2]! + terms[3]!;
            }
          }
          res[((r * L.channels + c) * L.outH + ph) * L.outW + pw] = L.max ? acc : acc / count;
        }
      }
    }
  }
  return [fromNumbers(inputs[0]!.type, L.out.dims, res)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'RoiAlign', inferOutputs: (inputs, ctx) => [roiLayout(inputs, ctx).out], reference },
];
