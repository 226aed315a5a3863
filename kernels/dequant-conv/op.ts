import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { Attributes } from '../../core/attributes.ts';
import { convGeometry } from '../common/conv-attributes.ts';
import { paramIndexMap, quantParamLayout, type QuantParamLayout } from '../common/quant.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition } from '../contract.ts';
import { definitions as convDefinitions } from '../conv/op.ts';
import { unaryEpilogueOf } from '../fused-elementwise/epilogue.ts';

/**
 * kiln.DequantConv: Conv whose weight is DequantizeLinear(Wq, scale, zero_point) of a constant
 * 8-bit or 4-bit tensor, written by the QDQ lowering pass (runtime/graph/passes/qdq-conv.ts).
 * Inputs: X, Wq, B (optional), W_scale, W_zero_point (optional); Conv's attributes plus the
 * dequantization's `kiln_dq_axis` and `kiln_dq_block_size` (per-tensor, per-axis or blocked, as
 * DequantizeLinear defines them), and the fused activation.
 *
 * On the GPU Wq stays packed (int8: 4, int4: 8 values per u32 word) and is dequantized as it is
 * loaded, through Conv's own WGSL (kernels/conv/, ConvWeightReader); when the scale depends
 * only on the output channel and there is no zero point (symmetric per-channel or per-tensor, what
 * PyTorch and onnxruntime's quantizer emit for Conv weights) the integer weights are accumulated
 * as they are and the scale is applied once per output in the epilogue. f32 accumulation.
 * The reference dequantizes the weight plainly and runs Conv's reference; js.ts dequantizes it once
 * (cached per constant) and runs Conv's fast CPU path.
 */

export const IX = 0, IW = 1, IB = 2, IS = 3, IZ = 4;
export const WEIGHT_TYPES = ['int8', 'uint8', 'int4', 'uint4'] as const;

/** The DequantizeLinear attributes the pass carried over, as DequantizeLinear reads them. */
function dqContext(ctx: KernelContext): KernelContext {
  const attrs = Attributes.empty().with('axis', ctx.attrs.int('kiln_dq_axis', 1)).with('block_size', ctx.attrs.int('kiln_dq_block_size', 0));
  // the pass only writes layouts it validated against the model's opset
  return { ...ctx, attrs, opset: 21 };
}

export function layoutOf(inputs: readonly MaybeMeta[], ctx: KernelContext): QuantParamLayout {
  const w = requireInput(inputs, IW, ctx);
  const s = requireInput(inputs, IS, ctx);
  requireType(w, WEIGHT_TYPES, ctx, 'W');
  requireType(s, ['float32'], ctx, 'W_scale');
  const z = inputs[IZ];
  if (z && z.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': W_zero_point type ${z.dtype} differs from W type ${w.dtype}`);
  return quantParamLayout(w, s, z, dqContext(ctx), 'W_scale');
}

/** Conv's view of the inputs: X, the weight as the float tensor it stands for, B. */
export function floatInputs(inputs: readonly MaybeMeta[], ctx: KernelContext): MaybeMeta[] {
  const x = requireInput(inputs, IX, ctx);
  requireType(x, ['float32'], ctx, 'X');
  return [x, { ...inputs[IW]!, dtype: 'float32' }, inputs[IB]];
}

/** (q - zero_point) * scale in float32, as DequantizeLinear computes it. */
export function dequantizeWeight(q: AnyTensor, scale: AnyTensor, zp: AnyTensor | undefined, layout: QuantParamLayout): AnyTensor {
  const qv = toNumbers(q);
  const sv = toNumbers(scale);
  const zv = zp ? toNumbers(zp) : undefined;
  const map = paramIndexMap(layout, qv.length);
  const w = new Float32Array(qv.length);
  for (let i = 0; i < qv.length; i++) {
    const j = map ? map[i]! : 0;
    w[i] = (qv[i]! - (zv ? zv[j]! : 0)) * sv[j]!;
  }
  return new Tensor('float32', w, q.dims);
}

const convReference = convDefinitions.find((d) => d.opType === 'Conv')!.reference;

/** The reference: DequantizeLinear of the weight, then Conv's reference. */
function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const metas = inputs.map((t) => t && metaOf(t));
  const layout = layoutOf(metas, ctx);
  floatInputs(metas, ctx);
  const w = dequantizeWeight(inputs[IW]!, inputs[IS]!, inputs[IZ], layout);
  return convReference([inputs[IX], w, inputs[IB]], ctx);
}

export const definitions: readonly OpDefinition[] = [
  {
    opType: 'DequantConv',
    domain: 'kiln',
    inferOutputs(inputs, ctx) {
      layoutOf(inputs, ctx);
      // a unary tail the WebGPU fusion pass folded in (an activation's fake quantization); Conv's reference and js path apply it
      unaryEpilogueOf(ctx.attrs, ctx.node);
      return [convGeometry(floatInputs(inputs, ctx), ctx, false).out];
    },
    reference,
  },
];
