import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { clampTo, EIGHT_BIT_TYPES, quantRange, roundHalfEven } from '../common/quant.ts';
import { broadcastIndexMap, broadcastShapes, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * com.microsoft QLinearAdd: C = quantize(dequantize(A) + dequantize(B)), numpy broadcasting, 8-bit
 * A, B, C of one type, scalar scales and zero points. The QDQ lowering
 * (runtime/graph/passes/qdq-qlinear-binary.ts) writes it for onnxruntime's Add node group, so the
 * arithmetic is exactly what onnxruntime-web runs (MLAS qladd.cpp, the portable helper the wasm
 * build uses), every step rounded to float32:
 *   va = sa * (a - za);  vb = sb * (b - zb);  v = (va + vb) / sc;
 *   v = clamp(v, lo - zc, hi - zc);  c = round_half_even(v + zc)
 * Adding zc before rounding is what differs from DequantizeLinear -> Add -> QuantizeLinear (which
 * rounds v, then adds zc): v + zc in float32 can land on a half the exact value is not on.
 */

// inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point
export const A = 0, AS = 1, AZ = 2, B = 3, BS = 4, BZ = 5, CS = 6, CZ = 7;

export interface QLinearBinaryPlan {
  readonly out: TensorMeta;
  readonly range: readonly [number, number];
}

export function qlinearBinaryPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): QLinearBinaryPlan {
  const a = requireInput(inputs, A, ctx);
  const b = requireInput(inputs, B, ctx);
  requireType(a, EIGHT_BIT_TYPES, ctx, 'A');
  if (b.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': B type ${b.dtype} differs from A type ${a.dtype}`);
  for (const [slot, name] of [[AS, 'A_scale'], [BS, 'B_scale'], [CS, 'C_scale']] as const) {
    const s = requireInput(inputs, slot, ctx);
    requireType(s, ['float32'], ctx, name);
    if (s.dims.reduce((x, y) => x * y, 1) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} must be a scalar, got shape [${s.dims.join(', ')}]`);
  }
  for (const [slot, name] of [[AZ, 'A_zero_point'], [BZ, 'B_zero_point'], [CZ, 'C_zero_point']] as const) {
    const z = inputs[slot];
    if (!z) continue;
    if (z.dtype !== a.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${z.dtype} differs from A type ${a.dtype}`);
    if (z.dims.reduce((x, y) => x * y, 1) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} must be a scalar, got shape [${z.dims.join(', ')}]`);
  }
  const dims = broadcastShapes([a.dims, b.dims], ctx);
  return { out: { dtype: a.dtype, dims }, range: quantRange(a.dtype, ctx, 'C') };
}

/** The reference, also run by QLinearConv's folded QLinearAdd on the CPU (qlinear-conv/fused-io.ts). */
export function qlinearAddReference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = qlinearBinaryPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const f = Math.fround;
  const scalar = (slot: number): number => {
    const t = inputs[slot];
    return t ? toNumbers(t)[0]! : 0;
  };
  const [sa, za, sb, zb, sc, zc] = [scalar(AS), scalar(AZ), scalar(BS), scalar(BZ), scalar(CS), scalar(CZ)];
  const a = toNumbers(inputs[A]!);
  const b = toNumbers(inputs[B]!);
  const amap = broadcastIndexMap(p.out.dims, inputs[A]!.dims);
  const bmap = broadcastIndexMap(p.out.dims, inputs[B]!.dims);
  const [lo, hi] = p.range;
  const out = new Float64Array(p.out.dims.reduce((x, y) => x * y, 1));
  for (let i = 0; i < out.length; i++) {
    const va = f(sa * (a[amap ? amap[i]! : i]! - za));
    const vb = f(sb * (b[bmap ? bmap[i]! : i]! - zb));
    const v = clampTo(f(f(va + vb) / sc), lo - zc, hi - zc);
    out[i] = roundHalfEven(f(v + zc));
  }
  return [fromNumbers(p.out.dtype, p.out.dims, out)];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'QLinearAdd', domain: 'com.microsoft', inferOutputs: (inputs, ctx) => [qlinearBinaryPlan(inputs, ctx).out], reference: qlinearAddReference },
];
