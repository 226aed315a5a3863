import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { Attributes } from '../../core/attributes.ts';
import { paramIndexMap, quantParamLayout, wgslParamIndex, type QuantParamLayout } from '../common/quant.ts';
import { requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import { convCpu } from '../conv/js.ts';
import { convWebgpu, type ConvWeightReader } from '../conv/webgpu-program.ts';
import { convGeometry } from '../common/conv-attributes.ts';
import type { KernelContext, MaybeMeta, MaybeTensor } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * kiln.DequantConv: Conv whose weight is DequantizeLinear(Wq, scale, zero_point) of a constant
 * 8-bit or 4-bit tensor, written by the QDQ lowering pass (runtime/graph/passes/qdq-conv.ts).
 * Inputs: X, Wq, B (optional), W_scale, W_zero_point (optional); Conv's attributes plus the
 * dequantization's `kiln_dq_axis` and `kiln_dq_block_size` (per-tensor, per-axis or blocked, as
 * DequantizeLinear defines them), and the fused activation.
 *
 * On the GPU Wq stays packed (int8: 4, int4: 8 values per u32 word) and is dequantized as it is
 * loaded, through Conv's own WGSL (kernels/conv.ts, ConvWeightReader); when the scale depends
 * only on the output channel and there is no zero point (symmetric per-channel or per-tensor, what
 * PyTorch and onnxruntime's quantizer emit for Conv weights) the integer weights are accumulated
 * as they are and the scale is applied once per output in the epilogue. f32 accumulation.
 * The CPU dequantizes the weight once (cached per constant) and runs the float Conv reference.
 */

const IX = 0, IW = 1, IB = 2, IS = 3, IZ = 4;
export const WEIGHT_TYPES = ['int8', 'uint8', 'int4', 'uint4'] as const;

/** The DequantizeLinear attributes the pass carried over, as DequantizeLinear reads them. */
function dqContext(ctx: KernelContext): KernelContext {
  const attrs = Attributes.empty().with('axis', ctx.attrs.int('kiln_dq_axis', 1)).with('block_size', ctx.attrs.int('kiln_dq_block_size', 0));
  // the pass only writes layouts it validated against the model's opset
  return { ...ctx, attrs, opset: 21 };
}

function layoutOf(inputs: readonly MaybeMeta[], ctx: KernelContext): QuantParamLayout {
  const w = requireInput(inputs, IW, ctx);
  const s = requireInput(inputs, IS, ctx);
  requireType(w, WEIGHT_TYPES, ctx, 'W');
  requireType(s, ['float32'], ctx, 'W_scale');
  const z = inputs[IZ];
  if (z && z.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': W_zero_point type ${z.dtype} differs from W type ${w.dtype}`);
  return quantParamLayout(w, s, z, dqContext(ctx), 'W_scale');
}

function floatInputs(inputs: readonly MaybeMeta[], ctx: KernelContext): MaybeMeta[] {
  const x = requireInput(inputs, IX, ctx);
  requireType(x, ['float32'], ctx, 'X');
  return [x, { ...inputs[IW]!, dtype: 'float32' }, inputs[IB]];
}

const cache = new WeakMap<AnyTensor, { scale: AnyTensor; zp: AnyTensor | undefined; w: AnyTensor }>();

/** (q - zero_point) * scale in float32, as DequantizeLinear computes it; cached per constant. */
export function dequantizeWeight(q: AnyTensor, scale: AnyTensor, zp: AnyTensor | undefined, layout: QuantParamLayout): AnyTensor {
  const hit = cache.get(q);
  if (hit && hit.scale === scale && hit.zp === zp) return hit.w;
  const qv = toNumbers(q);
  const sv = toNumbers(scale);
  const zv = zp ? toNumbers(zp) : undefined;
  const map = paramIndexMap(layout, qv.length);
  const w = new Float32Array(qv.length);
  for (let i = 0; i < qv.length; i++) {
    const j = map ? map[i]! : 0;
    w[i] = (qv[i]! - (zv ? zv[j]! : 0)) * sv[j]!;
  }
  const t = new Tensor('float32', w, q.dims);
  cache.set(q, { scale, zp, w: t });
  return t;
}

function dequantConvCpu(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const metas = inputs.map((t) => t && metaOf(t));
  const layout = layoutOf(metas, ctx);
  floatInputs(metas, ctx);
  const w = dequantizeWeight(inputs[IW]!, inputs[IS]!, inputs[IZ], layout);
  return convCpu([inputs[IX], w, inputs[IB]], ctx, false);
}

/** Zero points that are all zero (symmetric weights) need no subtraction. */
const isOutputChannelScale = (l: QuantParamLayout): boolean => l.kind === 'tensor' || (l.kind === 'axis' && l.axis === 0);

function weightReader(inputs: readonly MaybeMeta[], layout: QuantParamLayout, zeroPointsAllZero: boolean): ConvWeightReader {
  return {
    declare(b) {
      const S = b.input('WS', inputs[IS]!, IS);
      const Z = inputs[IZ] && !zeroPointsAllZero ? b.input('WZ', inputs[IZ], IZ) : undefined;
      if (!Z && isOutputChannelScale(layout)) {
        return { load: (W, i) => `f32(${W.get(i)})`, channelScale: (co) => S.get(layout.kind === 'tensor' ? '0u' : co) };
      }
      const param = wgslParamIndex(b, layout, 'wq_param');
      return { load: (W, i) => `((f32(${W.get(i)})${Z ? ` - f32(${Z.get(`${param}(${i})`)})` : ''}) * ${S.get(`${param}(${i})`)})` };
    },
  };
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'DequantConv',
    domain: 'kiln',
    inferOutputs(inputs, ctx) {
      layoutOf(inputs, ctx);
      return [convGeometry(floatInputs(inputs, ctx), ctx, false).out];
    },
    cpu: dequantConvCpu,
    webgpu(inputs, outputs, ctx) {
      const layout = layoutOf(inputs, ctx);
      floatInputs(inputs, ctx);
      // whether the zero point is all zeros is a property of the constant, known to the pass
      const symmetric = ctx.attrs.int('kiln_dq_symmetric', 0) === 1 || !inputs[IZ];
      return convWebgpu(inputs, outputs, ctx, false, weightReader(inputs, layout, symmetric));
    },
  },
];
