import type { AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import {
  clampTo,
  paramIndexMap,
  precisionOf,
  QUANT_TYPES,
  quantizeValue,
  quantParamLayout,
  quantRange,
  roundHalfEven,
  roundTo,
  widerPrecision,
  type FloatPrecision,
  type QuantParamLayout,
} from '../common/quant.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * QuantizeLinear, DequantizeLinear (opsets 10 to 25: per-tensor, per-axis, blocked; integer
 * types only, Kiln has no float8/float4 dtypes) and DynamicQuantizeLinear. The CPU code is a plain
 * loop per element, so it is the reference (no js.ts). Elementwise on the GPU (webgpu.ts): one
 * invocation per element, the parameter index from kernels/webgpu/quant-wgsl.ts.
 */

const DQ_INPUT_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'int4', 'uint4'] as const;
const Q_INPUT_TYPES = [...FLOAT_TYPES, 'int32'] as const;

function outputTypeAttr(ctx: KernelContext): DataType | undefined {
  const code = ctx.attrs.int('output_dtype', 0);
  return code === 0 ? undefined : dataTypeFromOnnx(code, `node '${ctx.node}' output_dtype`);
}

// ---------------------------------------------------------------------------------------------
// QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point)
// ---------------------------------------------------------------------------------------------

export interface QuantizePlan {
  readonly out: TensorMeta;
  readonly layout: QuantParamLayout;
  readonly range: readonly [number, number];
  /** the float type x / scale is computed in */
  readonly precision: FloatPrecision;
}

export function planQuantize(inputs: readonly MaybeMeta[], ctx: KernelContext): QuantizePlan {
  const x = requireInput(inputs, 0, ctx);
  const scale = requireInput(inputs, 1, ctx);
  const zp = inputs[2];
  requireType(x, Q_INPUT_TYPES, ctx, 'x');
  requireType(scale, FLOAT_TYPES, ctx, 'y_scale');
  const attrType = outputTypeAttr(ctx);
  if (zp) requireType(zp, QUANT_TYPES, ctx, 'y_zero_point');
  if (zp && attrType && attrType !== zp.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': output_dtype ${attrType} differs from y_zero_point type ${zp.dtype}`);
  const dtype = zp?.dtype ?? attrType ?? 'uint8';
  const range = quantRange(dtype, ctx, 'output');
  const layout = quantParamLayout(x, scale, zp, ctx, 'y_scale');
  // opset 23 `precision` names the division's type; otherwise numpy promotes x and y_scale
  const pAttr = ctx.attrs.int('precision', 0);
  const scaleP = precisionOf(scale.dtype);
  const precision = pAttr ? precisionOf(dataTypeFromOnnx(pAttr, `node '${ctx.node}' precision`)) : x.dtype === 'int32' ? scaleP : widerPrecision(precisionOf(x.dtype), scaleP);
  return { out: { dtype, dims: x.dims }, layout, range, precision };
}

export function quantizeReference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [x, scale, zp] = inputs;
  const p = planQuantize([metaOf(x!), metaOf(scale!), zp && metaOf(zp)], ctx);
  const xv = toNumbers(x!);
  const sv = toNumbers(scale!);
  const zv = zp ? toNumbers(zp) : undefined;
  const map = paramIndexMap(p.layout, xv.length);
  const [lo, hi] = p.range;
  const res = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const j = map ? map[i]! : 0;
    const q = roundTo(p.precision, roundTo(p.precision, xv[i]!) / sv[j]!);
    res[i] = quantizeValue(q, zv ? zv[j]! : 0, lo, hi);
  }
  return [fromNumbers(p.out.dtype, p.out.dims, res)];
}

// ---------------------------------------------------------------------------------------------
// DequantizeLinear: y = (x - zero_point) * scale
// ---------------------------------------------------------------------------------------------

export interface DequantizePlan {
  readonly out: TensorMeta;
  readonly layout: QuantParamLayout;
  readonly precision: FloatPrecision;
}

export function planDequantize(inputs: readonly MaybeMeta[], ctx: KernelContext): DequantizePlan {
  const x = requireInput(inputs, 0, ctx);
  const scale = requireInput(inputs, 1, ctx);
  const zp = inputs[2];
  requireType(x, DQ_INPUT_TYPES, ctx, 'x');
  requireType(scale, FLOAT_TYPES, ctx, 'x_scale');
  if (zp && zp.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': x_zero_point type ${zp.dtype} differs from x type ${x.dtype}`);
  const dtype = outputTypeAttr(ctx) ?? scale.dtype;
  if (!(FLOAT_TYPES as readonly string[]).includes(dtype)) fail('INVALID_GRAPH', `node '${ctx.node}': output_dtype ${dtype} is not one of ${FLOAT_TYPES.join(', ')}`);
  const layout = quantParamLayout(x, scale, zp, ctx, 'x_scale');
  // numpy: x.astype(float32) - zp, times scale in the wider of float32 and the scale's type
  return { out: { dtype, dims: x.dims }, layout, precision: widerPrecision('float32', precisionOf(scale.dtype)) };
}

export function dequantizeReference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const [x, scale, zp] = inputs;
  const p = planDequantize([metaOf(x!), metaOf(scale!), zp && metaOf(zp)], ctx);
  const xv = toNumbers(x!);
  const sv = toNumbers(scale!);
  const zv = zp ? toNumbers(zp) : undefined;
  const map = paramIndexMap(p.layout, xv.length);
  const res = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const j = map ? map[i]! : 0;
    res[i] = roundTo(p.precision, (xv[i]! - (zv ? zv[j]! : 0)) * sv[j]!);
  }
  return [fromNumbers(p.out.dtype, p.out.dims, res)];
}

// ---------------------------------------------------------------------------------------------
// DynamicQuantizeLinear: uint8, scale and zero point from min/max of x widened to include 0.
// Each step rounds to float32 as the ONNX reference (numpy float32) does.
// ---------------------------------------------------------------------------------------------

export function inferDynamic(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, ['float32'], ctx, 'x');
  return [{ dtype: 'uint8', dims: x.dims }, { dtype: 'float32', dims: [] }, { dtype: 'uint8', dims: [] }];
}

function dynamicReference(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const x = inputs[0]!;
  const [yMeta] = inferDynamic([metaOf(x)], ctx);
  const xv = x.data as Float32Array;
  let mn = 0;
  let mx = 0;
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const scale = mx === mn ? 1 : Math.fround(Math.fround(mx - mn) / 255);
  const zp = roundHalfEven(clampTo(-Math.fround(mn / scale), 0, 255));
  const y = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) y[i] = quantizeValue(Math.fround(xv[i]! / scale), zp, 0, 255);
  return [fromNumbers('uint8', yMeta!.dims, y), fromNumbers('float32', [], [scale]), fromNumbers('uint8', [], [zp])];
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'QuantizeLinear', inferOutputs: (inputs, ctx) => [planQuantize(inputs, ctx).out], reference: quantizeReference },
  { opType: 'DequantizeLinear', inferOutputs: (inputs, ctx) => [planDequantize(inputs, ctx).out], reference: dequantizeReference },
  { opType: 'DynamicQuantizeLinear', inferOutputs: inferDynamic, reference: dynamicReference },
];
