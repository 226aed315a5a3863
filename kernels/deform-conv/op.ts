import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * DeformConv (opsets 19, 22; 2-D, as onnxruntime implements it): a convolution whose every tap
 * samples X at its regular position plus a learned (dh, dw) offset, bilinearly with zeros outside
 * the image, optionally scaled by a mask (modulated deformable convolution, DCNv2). offset is
 * [N, offset_group * kH * kW * 2, oH, oW] laid out as (offset_group, kH, kW, [dh, dw]); mask is
 * [N, offset_group * kH * kW, oH, oW]; input channel c uses offset group c / (C / offset_group).
 */

export interface DeformConvLayout {
  readonly out: TensorMeta;
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly m: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly group: number;
  readonly offsetGroup: number;
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly pads: readonly number[];
}

export function deformConvLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): DeformConvLayout {
  const x = requireInput(inputs, 0, ctx);
  const wt = requireInput(inputs, 1, ctx);
  const offset = requireInput(inputs, 2, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  for (const [i, what] of [[1, 'W'], [2, 'offset'], [3, 'B'], [4, 'mask']] as const) if (inputs[i]) requireType(inputs[i], [x.dtype], ctx, what);
  const where = `node '${ctx.node}': DeformConv`;
  if (x.dims.length !== 4) fail('UNSUPPORTED_FEATURE', `${where} X has dims [${x.dims.join(', ')}]: only 2-D deformable convolution ([N, C, H, W]) is supported, as in onnxruntime`);
  const [n, c, h, w] = x.dims as [number, number, number, number];
  if (wt.dims.length !== 4) fail('INVALID_GRAPH', `${where} W must be [M, C / group, kH, kW], got [${wt.dims.join(', ')}]`);
  const [m, cg, kh, kw] = wt.dims as [number, number, number, number];
  const group = ctx.attrs.int('group', 1);
  const offsetGroup = ctx.attrs.int('offset_group', 1);
  const kernel = ctx.attrs.ints('kernel_shape', [kh, kw]);
  const strides = ctx.attrs.ints('strides', [1, 1]);
  const dilations = ctx.attrs.ints('dilations', [1, 1]);
  const pads = ctx.attrs.ints('pads', [0, 0, 0, 0]);
  if (kernel[0] !== kh || kernel[1] !== kw) fail('INVALID_GRAPH', `${where} kernel_shape [${kernel.join(', ')}] differs from W's [${kh}, ${kw}]`);
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4 || strides.some((s) => s < 1) || dilations.some((d) => d < 1) || pads.some((p) => p < 0)) {
    fail('INVALID_GRAPH', `${where} needs 2 strides and dilations >= 1 and 4 pads >= 0, got [${strides.join(', ')}], [${dilations.join(', ')}], [${pads.join(', ')}]`);
  }
  if (group < 1 || offsetGroup < 1 || c % group !== 0 || m % group !== 0 || cg !== c / group || c % offsetGroup !== 0) {
    fail('INVALID_GRAPH', `${where} channels do not fit: C ${c}, M ${m}, W's C / group ${cg}, group ${group}, offset_group ${offsetGroup}`);
  }
  const oh = Math.floor((h + pads[0]! + pads[2]! - (dilations[0]! * (kh - 1) + 1)) / strides[0]!) + 1;
  const ow = Math.floor((w + pads[1]! + pads[3]! - (dilations[1]! * (kw - 1) + 1)) / strides[1]!) + 1;
  if (oh < 1 || ow < 1) fail('INVALID_GRAPH', `${where} output would be ${oh} x ${ow}: the kernel is larger than the padded image`);
  const expect = (what: string, meta: TensorMeta, dims: number[]): void => {
    if (meta.dims.length !== dims.length || meta.dims.some((d, i) => d !== dims[i])) fail('INVALID_GRAPH', `${where} ${what} must be [${dims.join(', ')}], got [${meta.dims.join(', ')}]`);
  };
  expect('offset', offset, [n, offsetGroup * kh * kw * 2, oh, ow]);
  if (inputs[3]) expect('B', inputs[3], [m]);
  if (inputs[4]) expect('mask', inputs[4], [n, offsetGroup * kh * kw, oh, ow]);
  return { out: { dtype: x.dtype, dims: [n, m, oh, ow] }, n, c, h, w, m, kh, kw, oh, ow, group, offsetGroup, strides, dilations, pads };
}

/** X's plane at `base` sampled at (y, x): the four neighbours weighted bilinearly, each 0 outside the image. */
function bilinear(data: Float64Array, base: number, height: number, width: number, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const ly = y - y0;
  const lx = x - x0;
  const at = (yy: number, xx: number): number => (yy >= 0 && yy < height && xx >= 0 && xx < width ? data[base + yy * width + xx]! : 0);
  return (1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x0 + 1) + ly * (1 - lx) * at(y0 + 1, x0) + ly * lx * at(y0 + 1, x0 + 1);
}

const deformConv: OpDefinition = {
  opType: 'DeformConv',
  inferOutputs: (inputs, ctx) => [deformConvLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const L = deformConvLayout(inputs.map((t) => (t ? metaOf(t) : undefined)), ctx);
    const [x, wt, offset] = [0, 1, 2].map((i) => toNumbers(inputs[i]!)) as [Float64Array, Float64Array, Float64Array];
    const bias = inputs[3] ? toNumbers(inputs[3]) : undefined;
    const mask = inputs[4] ? toNumbers(inputs[4]) : undefined;
    const { kh, kw, oh, ow } = L;
    const cg = L.c / L.group;
    const mg = L.m / L.group;
    const cPerOffset = L.c / L.offsetGroup;
    const y = new Float64Array(L.n * L.m * oh * ow);
    for (let n = 0; n < L.n; n++) {
      for (let o = 0; o < L.m; o++) {
        const g = Math.floor(o / mg);
        for (let r = 0; r < oh; r++) {
          for (let q = 0; q < ow; q++) {
            let sum = bias ? bias[o]! : 0;
            for (let cc = 0; cc < cg; cc++) {
              const ci = g * cg + cc;
              const og = Math.floor(ci / cPerOffset);
              for (let i = 0; i < kh; i++) {
                for (let j = 0; j < kw; j++) {
                  const tap = og * kh * kw + i * kw + j;
                  const dy = offset[((n * L.offsetGroup * kh * kw * 2 + tap * 2) * oh + r) * ow + q]!;
                  const dx = offset[((n * L.offsetGroup * kh * kw * 2 + tap * 2 + 1) * oh + r) * ow + q]!;
                  const sy = r * L.strides[0]! - L.pads[0]! + i * L.dilations[0]! + dy;
                  const sx = q * L.strides[1]! - L.pads[1]! + j * L.dilations[1]! + dx;
                  let v = bilinear(x, (n * L.c + ci) * L.h * L.w, L.h, L.w, sy, sx);
                  if (mask) v *= mask[((n * L.offsetGroup * kh * kw + tap) * oh + r) * ow + q]!;
                  sum += wt[((o * cg + cc) * kh + i) * kw + j]! * v;
                }
              }
            }
            y[((n * L.m + o) * oh + r) * ow + q] = sum;
          }
        }
      }
    }
    return [fromNumbers(L.out.dtype, L.out.dims, y)];
  },
};

export const definitions: readonly OpDefinition[] = [deformConv];
