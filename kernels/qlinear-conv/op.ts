import type { DataType } from '../../core/dtype.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { ConvGeometry } from '../common/conv-attributes.ts';
import { clampTo, EIGHT_BIT_TYPES, mulRoundHalfEven, ORT_REQUANT_ATTR, quantRange, requantMultiplier, roundHalfEven } from '../common/quant.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { intConvGeometry, intConvReference, perChannel, requireScalar } from '../conv-integer/op.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { applyLookupEpilogue, lookupEpilogueType } from '../qlinear-lookup/epilogue.ts';
import { fusedIoOf, fusedOutputMeta, integerInputMetas, withFusedIo } from './fused-io.ts';
import { ADD_ATTR, DQ_BIAS_ATTR, RESIDUAL_SLOT } from './fused-io-attrs.ts';

/**
 * QLinearConv: the exact int32 conv of conv-integer/ plus the int32 bias, requantized with
 * multiplier x_scale * w_scale[co] / y_scale (float32 steps, as the ONNX reference) and rounded
 * exactly, then offset by y_zero_point and saturated. w_scale / w_zero_point may be per output channel.
 * The reference runs ConvInteger's plain reference core; js.ts its tap-table loop; both share the
 * requantizing epilogue below.
 */

/**
 * Set (to 1) by the QDQ lowering (runtime/graph/passes/qdq-qlinear-conv.ts): requantize as
 * onnxruntime's MLAS does (MlasRequantizeOutput: float32(acc) * multiplier rounded to float32, then
 * round half to even), not exactly as the ONNX reference; the two differ only when the product
 * lies within a float32 rounding of a half, and then MLAS's answer is the one QDQ models expect.
 */
export { ORT_REQUANT_ATTR };

// inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B
export const X = 0, XS = 1, XZ = 2, W = 3, WS = 4, WZ = 5, YS = 6, YZ = 7, B = 8;
/** a folded kiln.QLinearLookup's table (qlinear-lookup/epilogue.ts), written only by Kiln's wasm graph pass */
export const TABLE = 9;

export interface QLinearConvPlan {
  readonly geo: ConvGeometry;
  readonly out: TensorMeta;
  /** the requantized values' type (out's, unless a folded lookup table maps them to its own) */
  readonly yType: DataType;
  readonly range: readonly [number, number];
  readonly wsPer: boolean;
  readonly wzPer: boolean;
}

export function qlinearConvPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): QLinearConvPlan {
  const x = requireInput(inputs, X, ctx);
  const w = requireInput(inputs, W, ctx);
  const { geo, dims } = intConvGeometry(x, w, ctx);
  const cout = geo.coutG * geo.group;
  for (const [slot, name] of [[XS, 'x_scale'], [WS, 'w_scale'], [YS, 'y_scale']] as const) requireType(requireInput(inputs, slot, ctx), ['float32'], ctx, name);
  const xz = inputs[XZ];
  const wz = inputs[WZ];
  const yz = inputs[YZ];
  if (xz && xz.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': x_zero_point type ${xz.dtype} differs from x type ${x.dtype}`);
  if (wz && wz.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': w_zero_point type ${wz.dtype} differs from w type ${w.dtype}`);
  if (yz) requireType(yz, EIGHT_BIT_TYPES, ctx, 'y_zero_point');
  requireScalar(inputs[XS], ctx, 'x_scale');
  requireScalar(xz, ctx, 'x_zero_point');
  requireScalar(inputs[YS], ctx, 'y_scale');
  requireScalar(yz, ctx, 'y_zero_point');
  const bias = inputs[B];
  if (bias) {
    requireType(bias, ['int32'], ctx, 'B');
    if (bias.dims.length !== 1 || bias.dims[0] !== cout) fail('INVALID_GRAPH', `node '${ctx.node}': B has shape [${bias.dims.join(', ')}], expected [${cout}]`);
  }
  const dtype = yz?.dtype ?? x.dtype;
  return {
    geo,
    // a folded QLinearAdd's operand (fused-io.ts) is not one of the op's own inputs
    out: { dtype: lookupEpilogueType(ctx.attrs.has(ADD_ATTR) ? inputs.slice(0, RESIDUAL_SLOT) : inputs, TABLE, ctx, dtype) ?? dtype, dims },
    yType: dtype,
    range: quantRange(dtype, ctx, 'y'),
    wsPer: perChannel(inputs[WS], cout, ctx, 'w_scale'),
    wzPer: perChannel(wz, cout, ctx, 'w_zero_point'),
  };
}

/** The integer conv core: (x, w, geometry, x zero point, w zero points, int32 bias) -> int32 accumulators. */
export type IntConvCore = typeof intConvReference;

/** QLinearConv on the CPU with a given integer core: accumulate, then requantize per output channel. */
export function qlinearConvWith(core: IntConvCore, inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = qlinearConvPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const g = p.geo;
  const num = (slot: number): Float64Array | undefined => {
    const t = inputs[slot];
    return t && toNumbers(t);
  };
  const [xs, ws, ys] = [num(XS)!, num(WS)!, num(YS)!];
  const xz = num(XZ)?.[0] ?? 0;
  const yz = num(YZ)?.[0] ?? 0;
  const acc = core(inputs[X]!, inputs[W]!, g, xz, num(WZ), num(B));
  const cout = g.coutG * g.group;
  const S = acc.length / Math.max(1, g.batch * cout);
  const [lo, hi] = p.range;
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  for (let co = 0; co < cout; co++) {
    const m = requantMultiplier(xs[0]!, ws[p.wsPer ? co : 0]!, ys[0]!, 'float32');
    for (let n = 0; n < g.batch; n++) {
      const base = (n * cout + co) * S;
      if (mlas) for (let i = base; i < base + S; i++) acc[i] = clampTo(roundHalfEven(Math.fround(Math.fround(acc[i]!) * m)) + yz, lo, hi);
      else for (let i = base; i < base + S; i++) acc[i] = clampTo(mulRoundHalfEven(acc[i]!, m) + yz, lo, hi);
    }
  }
  applyLookupEpilogue(acc, inputs, TABLE, ctx, p.yType);
  return [fromNumbers(p.out.dtype, p.out.dims, acc)];
}

/** The output with the WebGPU pass's folded QuantizeLinear / QLinearAdd / QLinearLookup / DequantizeLinear (fused-io.ts), if any. */
export function inferQLinearConv(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const io = fusedIoOf(ctx.attrs);
  if (io.bias) fail('INVALID_GRAPH', `node '${ctx.node}': ${DQ_BIAS_ATTR} is QLinearMatMul's (a conv's bias is its input B)`);
  return fusedOutputMeta(qlinearConvPlan(integerInputMetas(inputs, io, X, XZ, ctx), ctx).out, io, ctx, inputs[RESIDUAL_SLOT]);
}

/** QLinearConv on the CPU with a given integer core, the folded ops (fused-io.ts) around it. */
export const qlinearConvFusedWith = (core: IntConvCore, inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] =>
  withFusedIo((ins, c) => qlinearConvWith(core, ins, c), inputs, ctx, X, XS, XZ);

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'QLinearConv',
    inferOutputs: (inputs, ctx) => [inferQLinearConv(inputs, ctx)],
    reference: (inputs, ctx) => qlinearConvFusedWith(intConvReference, inputs, ctx),
  },
];
