import type { DataType } from '../../core/dtype.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { clampTo, EIGHT_BIT_TYPES, mulRoundHalfEven, ORT_REQUANT_ATTR, precisionOf, quantRange, requantMultiplier, roundHalfEven } from '../common/quant.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { intMatmulReference, intMatmulShape, paramAt, rowColParam, type IntMatmulShape, type RowColParam } from '../matmul-integer/op.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { applyLookupEpilogue, lookupEpilogueType } from '../qlinear-lookup/epilogue.ts';
import { fusedIoOf, fusedOutputMeta, integerInputMetas, withFusedIo } from '../qlinear-conv/fused-io.ts';

/**
 * QLinearMatMul: y = saturate(round_half_even(acc * a_scale * b_scale / y_scale) + y_zero_point)
 * with acc the exact int32 product of the zero-point-shifted operands (matmul-integer/op.ts). The
 * multiplier is computed in the scales' type (float32, or float16 since opset 21) step by step as
 * the ONNX reference does, and acc * multiplier is rounded exactly (common/quant.ts).
 * a and y parameters may vary per row, b parameters per column. The CPU code is MatMulInteger's
 * plain loop plus a per-element epilogue, so it is the reference (no js.ts).
 */

/**
 * Set (to 1) by the QDQ lowering (runtime/graph/passes/qdq-qlinear-matmul.ts): requantize as
 * onnxruntime's MLAS does (float32(acc) * multiplier rounded to float32, then half to even)
 * instead of exactly; see qlinear-conv/op.ts.
 */
export { ORT_REQUANT_ATTR };

const SCALE_TYPES = ['float32', 'float16'] as const;
// inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
export const A = 0, AS = 1, AZ = 2, B = 3, BS = 4, BZ = 5, YS = 6, YZ = 7;
/** a folded kiln.QLinearLookup's table (qlinear-lookup/epilogue.ts), written only by Kiln's wasm graph pass */
export const TABLE = 8;

export interface QLinearMatmulPlan {
  readonly shape: IntMatmulShape;
  readonly out: TensorMeta;
  /** the requantized values' type (out's, unless a folded lookup table maps them to its own) */
  readonly yType: DataType;
  readonly range: readonly [number, number];
  readonly params: readonly (RowColParam | undefined)[];
}

export function qlinearMatmulPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): QLinearMatmulPlan {
  const a = requireInput(inputs, A, ctx);
  const b = requireInput(inputs, B, ctx);
  requireType(a, EIGHT_BIT_TYPES, ctx, 'a');
  requireType(b, EIGHT_BIT_TYPES, ctx, 'b');
  const shape = intMatmulShape(a, b, ctx);
  const as = requireInput(inputs, AS, ctx);
  requireType(as, SCALE_TYPES, ctx, 'a_scale');
  for (const [slot, name] of [[BS, 'b_scale'], [YS, 'y_scale']] as const) {
    const s = requireInput(inputs, slot, ctx);
    if (s.dtype !== as.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${s.dtype} differs from a_scale type ${as.dtype}`);
  }
  for (const [slot, of, name] of [[AZ, a, 'a_zero_point'], [BZ, b, 'b_zero_point']] as const) {
    const z = inputs[slot];
    if (z && z.dtype !== of.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${z.dtype} differs from its operand's type ${of.dtype}`);
  }
  const yz = inputs[YZ];
  if (yz) requireType(yz, EIGHT_BIT_TYPES, ctx, 'y_zero_point');
  const dtype = yz?.dtype ?? a.dtype;
  const outMatrix: TensorMeta = { dtype, dims: [...shape.batchDims, shape.M, shape.N] };
  const params: (RowColParam | undefined)[] = [];
  params[AS] = rowColParam(inputs[AS], a, 'row', shape.M, ctx, 'a_scale');
  params[AZ] = inputs[AZ] && rowColParam(inputs[AZ], a, 'row', shape.M, ctx, 'a_zero_point');
  params[BS] = rowColParam(inputs[BS], b, 'col', shape.N, ctx, 'b_scale');
  params[BZ] = inputs[BZ] && rowColParam(inputs[BZ], b, 'col', shape.N, ctx, 'b_zero_point');
  params[YS] = rowColParam(inputs[YS], outMatrix, 'row', shape.M, ctx, 'y_scale');
  params[YZ] = yz && rowColParam(yz, outMatrix, 'row', shape.M, ctx, 'y_zero_point');
  return { shape, out: { dtype: lookupEpilogueType(inputs, TABLE, ctx, dtype) ?? dtype, dims: shape.outDims }, yType: dtype, range: quantRange(dtype, ctx, 'y'), params };
}

function reference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const p = qlinearMatmulPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { M, N, K, batch } = p.shape;
  const v = inputs.map((t, i) => (t && i !== A && i !== B ? toNumbers(t) : undefined));
  const zp = (slot: number): { p: RowColParam; v: Float64Array } | undefined => {
    const pp = p.params[slot];
    const vv = v[slot];
    return pp && vv ? { p: pp, v: vv } : undefined;
  };
  const acc = intMatmulReference(inputs[A]!, inputs[B]!, p.shape, zp(AZ), zp(BZ));
  const precision = precisionOf(inputs[AS]!.type);
  const [lo, hi] = p.range;
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  const requant = (acc: number, m: number): number => (mlas ? roundHalfEven(Math.fround(Math.fround(acc) * m)) : mulRoundHalfEven(acc, m));
  const idx = new Array<number>(p.shape.batchDims.length).fill(0);
  const at = (slot: number, len: number, mat: number, i: number): number => paramAt(p.params[slot]!, v[slot], len, mat, i);
  for (let bi = 0; bi < batch; bi++) {
    let aOff = 0;
    let bOff = 0;
    for (let d = 0; d < idx.length; d++) {
      aOff += idx[d]! * p.shape.aBatchStrides[d]!;
      bOff += idx[d]! * p.shape.bBatchStrides[d]!;
    }
    const amat = aOff / Math.max(1, M * K);
    const bmat = bOff / Math.max(1, K * N);
    for (let m = 0; m < M; m++) {
      const as = at(AS, M, amat, m);
      const ys = at(YS, M, bi, m);
      const yz = p.params[YZ] ? at(YZ, M, bi, m) : 0;
      for (let n = 0; n < N; n++) {
        const o = (bi * M + m) * N + n;
        const mult = requantMultiplier(as, at(BS, N, bmat, n), ys, precision);
        acc[o] = clampTo(requant(acc[o]!, mult) + yz, lo, hi);
      }
    }
    for (let d = idx.length - 1; d >= 0 && ++idx[d]! === p.shape.batchDims[d]!; d--) idx[d] = 0;
  }
  applyLookupEpilogue(acc, inputs, TABLE, ctx, p.yType);
  return [fromNumbers(p.out.dtype, p.out.dims, acc)];
}

/** The output with the WebGPU pass's folded QuantizeLinear / QLinearLookup / DequantizeLinear (qlinear-conv/fused-io.ts), if any. */
export function inferQLinearMatmul(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const io = fusedIoOf(ctx.attrs);
  return fusedOutputMeta(qlinearMatmulPlan(integerInputMetas(inputs, io, A, AZ, ctx), ctx).out, io, ctx);
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'QLinearMatMul', inferOutputs: (inputs, ctx) => [inferQLinearMatmul(inputs, ctx)], reference: (inputs, ctx) => withFusedIo(reference, inputs, ctx, A, AS, AZ) },
];
