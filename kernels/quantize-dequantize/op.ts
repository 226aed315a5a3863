import type { AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { Attributes } from '../../core/attributes.ts';
import { precisionOf, QUANT_TYPES, quantParamLayout, quantRange, widerPrecision, type FloatPrecision, type QuantParamLayout } from '../common/quant.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { dequantizeReference, quantizeReference } from '../quantize-linear/op.ts';

/**
 * kiln.QuantizeDequantize: DequantizeLinear(QuantizeLinear(x, scale, zp), scale, zp) in one node,
 * written by the QDQ lowering pass (runtime/graph/passes/qdq-activation.ts) for the activation
 * pairs of QDQ models: x rounded to its quantization grid, as onnxruntime's integer kernels see it.
 * One dispatch and no integer tensor instead of two dispatches and a tensor between them.
 * Inputs and attributes are QuantizeLinear's (axis, block_size, output_dtype, precision), plus
 * `kiln_opset`: the model's ai.onnx opset, which decides what QuantizeLinear allows.
 * The reference is the composition of the two ops' references, so it is exact by construction;
 * js.ts has a one-loop fast path for the common case, and the WGSL does both steps per element
 * with the same rounding helpers.
 */

export interface QdqPlan {
  readonly out: TensorMeta;
  readonly layout: QuantParamLayout;
  readonly range: readonly [number, number];
  readonly precision: FloatPrecision;
}

/** QuantizeLinear's rules follow the model's ai.onnx opset, not the kiln domain's */
export const onnxContext = (ctx: KernelContext): KernelContext => ({ ...ctx, opset: ctx.attrs.int('kiln_opset', ctx.opset) });

export function planQdq(inputs: readonly MaybeMeta[], outer: KernelContext): QdqPlan {
  const ctx = onnxContext(outer);
  const x = requireInput(inputs, 0, ctx);
  const scale = requireInput(inputs, 1, ctx);
  const zp = inputs[2];
  requireType(x, FLOAT_TYPES, ctx, 'x');
  requireType(scale, FLOAT_TYPES, ctx, 'y_scale');
  if (zp) requireType(zp, QUANT_TYPES, ctx, 'y_zero_point');
  const code = ctx.attrs.int('output_dtype', 0);
  const qType: DataType = zp?.dtype ?? (code ? dataTypeFromOnnx(code, `node '${ctx.node}' output_dtype`) : 'uint8');
  const range = quantRange(qType, ctx, 'quantized');
  const layout = quantParamLayout(x, scale, zp, ctx, 'y_scale');
  const pAttr = ctx.attrs.int('precision', 0);
  const precision = pAttr ? precisionOf(dataTypeFromOnnx(pAttr, `node '${ctx.node}' precision`)) : widerPrecision(precisionOf(x.dtype), precisionOf(scale.dtype));
  if (scale.dtype !== 'float32' && scale.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': scale type ${scale.dtype} differs from x type ${x.dtype}`);
  return { out: { dtype: scale.dtype, dims: x.dims }, layout, range, precision };
}

/** QuantizeLinear's reference, then DequantizeLinear's on its integer result. */
export function qdqReference(inputs: readonly MaybeTensor[], outer: KernelContext): AnyTensor[] {
  const ctx = onnxContext(outer);
  const q = quantizeReference(inputs, ctx)[0]!;
  // DequantizeLinear's output_dtype means the float type: pass only the layout attributes on
  let attrs = Attributes.empty().with('axis', ctx.attrs.int('axis', 1));
  if (ctx.attrs.has('block_size')) attrs = attrs.with('block_size', ctx.attrs.int('block_size', 0));
  return dequantizeReference([q, inputs[1], inputs[2]], { ...ctx, attrs });
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'QuantizeDequantize',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [planQdq(inputs, ctx).out],
    reference: qdqReference,
  },
];
