import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { convGeometry, type ConvGeometry } from '../common/conv-attributes.ts';
import { EIGHT_BIT_TYPES } from '../common/quant.ts';
import { product, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * ConvInteger: Conv of 8-bit input and weights minus their zero points, exact in int32. Padding
 * reads as the input zero point (it contributes 0). The geometry comes from Conv's attribute
 * parser; the integer cores (the plain reference here, the tap-table CPU loop in js.ts, the WGSL
 * implicit GEMM in webgpu.ts) are shared with QLinearConv, which adds requantization.
 */

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

/**
 * Conv geometry for integer operands: common/conv-attributes.ts checks float types, so it sees
 * float stand-ins with the same shapes (the integer types are checked by the caller).
 */
export function intConvGeometry(x: TensorMeta, w: TensorMeta, ctx: KernelContext): { geo: ConvGeometry; dims: readonly number[] } {
  requireType(x, EIGHT_BIT_TYPES, ctx, 'x');
  requireType(w, EIGHT_BIT_TYPES, ctx, 'w');
  const { geo, out } = convGeometry([{ dtype: 'float32', dims: x.dims }, { dtype: 'float32', dims: w.dims }], ctx, false);
  return { geo, dims: out.dims };
}

/** A weight zero point (or scale) is one value or one per output channel. */
export function perChannel(meta: TensorMeta | undefined, channels: number, ctx: KernelContext, name: string): boolean {
  if (!meta) return false;
  const n = product(meta.dims);
  if (n === 1 && meta.dims.length <= 1) return false;
  if (meta.dims.length === 1 && n === channels) return true;
  return fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(meta.dims)}, expected a scalar or [${channels}]`);
}

export function requireScalar(meta: TensorMeta | undefined, ctx: KernelContext, name: string): void {
  if (meta && (product(meta.dims) !== 1 || meta.dims.length > 1)) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(meta.dims)}, expected a scalar`);
}

/** Row-major multi-index of flat offset `flat` in `dims`, written into `into`. */
function unravel(flat: number, dims: readonly number[], into: number[]): void {
  for (let d = dims.length - 1; d >= 0; d--) {
    into[d] = flat % dims[d]!;
    flat = Math.floor(flat / dims[d]!);
  }
}

/**
 * The plain reference core: each output element (n, co, position) is the sum over its group's input
 * channels and the kernel taps of (w - w_zero_point) * (x - x_zero_point); taps that land in the
 * padding are skipped (padding reads as the zero point, which contributes 0). Float64 sums are exact
 * for 8-bit operands, so wrapping to int32 once equals int32 accumulation; then the int32 bias is
 * added with int32 wrap-around. Output order [N, M, ...spatial].
 */
export function intConvReference(x: AnyTensor, w: AnyTensor, g: ConvGeometry, xzp: number, wzp: Float64Array | undefined, bias?: Float64Array): Float64Array {
  const xs = toNumbers(x);
  const wv = toNumbers(w);
  const rank = g.inDims.length;
  const cout = g.coutG * g.group;
  const cin = g.cinG * g.group;
  const positions = product(g.outDims);
  const inSize = product(g.inDims);
  const taps = product(g.kernel);
  const out = new Float64Array(g.batch * cout * positions);
  const o = new Array<number>(rank).fill(0);
  const k = new Array<number>(rank).fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / g.coutG);
      const wz = wzp ? (wzp.length === 1 ? wzp[0]! : wzp[co]!) : 0;
      for (let p = 0; p < positions; p++) {
        unravel(p, g.outDims, o);
        let sum = 0;
        for (let ci = 0; ci < g.cinG; ci++) {
          const xChannel = (n * cin + grp * g.cinG + ci) * inSize;
          const wChannel = (co * g.cinG + ci) * taps;
          for (let t = 0; t < taps; t++) {
            unravel(t, g.kernel, k);
            let off = 0;
            let inside = true;
            for (let d = 0; d < rank; d++) {
              const pos = o[d]! * g.strides[d]! - g.padBegin[d]! + k[d]! * g.dilations[d]!;
              if (pos < 0 || pos >= g.inDims[d]!) inside = false;
              off = off * g.inDims[d]! + pos;
            }
            if (inside) sum += (wv[wChannel + t]! - wz) * (xs[xChannel + off]! - xzp);
          }
        }
        out[(n * cout + co) * positions + p] = ((sum | 0) + (bias ? bias[co]! : 0)) | 0;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ConvInteger: x, w, x_zero_point (scalar), w_zero_point (scalar or per output channel)
// ---------------------------------------------------------------------------------------------

export interface ConvIntegerPlan {
  readonly geo: ConvGeometry;
  readonly out: TensorMeta;
}

export function convIntegerPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): ConvIntegerPlan {
  const x = requireInput(inputs, 0, ctx);
  const w = requireInput(inputs, 1, ctx);
  const { geo, dims } = intConvGeometry(x, w, ctx);
  const [xz, wz] = [inputs[2], inputs[3]];
  if (xz && xz.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': x_zero_point type ${xz.dtype} differs from x type ${x.dtype}`);
  if (wz && wz.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': w_zero_point type ${wz.dtype} differs from w type ${w.dtype}`);
  requireScalar(xz, ctx, 'x_zero_point');
  perChannel(wz, geo.coutG * geo.group, ctx, 'w_zero_point');
  return { geo, out: { dtype: 'int32', dims } };
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'ConvInteger',
    inferOutputs: (inputs, ctx) => [convIntegerPlan(inputs, ctx).out],
    reference(inputs, ctx) {
      const [x, w, xz, wz] = inputs;
      const p = convIntegerPlan(inputs.map((t) => t && metaOf(t)), ctx);
      const acc = intConvReference(x!, w!, p.geo, xz ? toNumbers(xz)[0]! : 0, wz && toNumbers(wz));
      return [new Tensor('int32', Int32Array.from(acc), p.out.dims)];
    },
  },
];
