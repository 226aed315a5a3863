import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { precisionOf, QUANT_TYPES, quantizeValue, quantParamLayout, quantRange, widerPrecision } from '../common/quant.ts';
import { wgslParamIndex, wgslQuantRound, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import { Attributes } from '../../core/attributes.ts';
import { kernels as quantizeLinear } from '../quantize-linear/legacy.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

/**
 * kiln.QuantizeDequantize: DequantizeLinear(QuantizeLinear(x, scale, zp), scale, zp) in one node,
 * written by the QDQ lowering pass (runtime/graph/passes/qdq-activation.ts) for the activation
 * pairs of QDQ models: x rounded to its quantization grid, as onnxruntime's integer kernels see it.
 * One dispatch and no integer tensor instead of two dispatches and a tensor between them.
 * Inputs and attributes are QuantizeLinear's (axis, block_size, output_dtype, precision), plus
 * `kiln_opset`: the model's ai.onnx opset, which decides what QuantizeLinear allows.
 * The CPU reference is the composition of the two ops' references, so it is exact by construction;
 * the WGSL does both steps per element with the same rounding helpers.
 */

const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const gpuDims = (d: readonly number[]): readonly number[] => (d.length ? d : [1]);

/** QuantizeLinear's rules follow the model's ai.onnx opset, not the kiln domain's */
const onnxContext = (ctx: KernelContext): KernelContext => ({ ...ctx, opset: ctx.attrs.int('kiln_opset', ctx.opset) });

function plan(inputs: readonly MaybeMeta[], outer: KernelContext) {
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
  return { out: { dtype: scale.dtype, dims: x.dims } as TensorMeta, layout, range, precision };
}

const reference = (op: string): LegacyOpKernel => quantizeLinear.find((k) => k.opType === op)!;

function cpu(inputs: readonly (AnyTensor | undefined)[], outer: KernelContext): AnyTensor[] {
  const ctx = onnxContext(outer);
  const fast = perTensorFloat32(inputs, ctx);
  if (fast) return [fast];
  const q = reference('QuantizeLinear').cpu(inputs, ctx)[0]!;
  // DequantizeLinear's output_dtype means the float type: pass only the layout attributes on
  let attrs = Attributes.empty().with('axis', ctx.attrs.int('axis', 1));
  if (ctx.attrs.has('block_size')) attrs = attrs.with('block_size', ctx.attrs.int('block_size', 0));
  return reference('DequantizeLinear').cpu([q, inputs[1], inputs[2]], { ...ctx, attrs });
}

/**
 * The common case (float32 x and scale, one scale and zero point: every activation pair of a QDQ
 * model) in one loop with the same float32 steps as the two references: q = clamp(rint(x / s) + zp),
 * y = (q - zp) * s. The general composition allocates float64 copies per op (~10x slower).
 */
function perTensorFloat32(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor | undefined {
  const [x, scale, zp] = inputs;
  if (!x || !scale || x.type !== 'float32' || scale.type !== 'float32' || scale.size !== 1 || (zp && zp.size !== 1) || ctx.attrs.int('precision', 0) !== 0) return undefined;
  const p = plan([metaOf(x), metaOf(scale), zp && metaOf(zp)], ctx);
  if (p.layout.kind !== 'tensor') return undefined;
  const [lo, hi] = p.range;
  const s = (scale.data as Float32Array)[0]!;
  const z = zp ? Number((zp.data as Int8Array | Uint8Array)[0]) : 0;
  const xv = x.data as Float32Array;
  const y = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const q = quantizeValue(Math.fround(xv[i]! / s), z, lo, hi);
    y[i] = (q - z) * s;
  }
  return new Tensor('float32', y, x.dims);
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'QuantizeDequantize',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [plan(inputs, ctx).out],
    cpu,
    webgpu(inputs, outputs, ctx) {
      const p = plan(inputs, ctx);
      if (p.precision === 'float64') return undefined;
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) }, 0);
      const S = b.input('S', { ...inputs[1]!, dims: gpuDims(inputs[1]!.dims) }, 1);
      const Z = inputs[2] ? b.input('Z', { ...inputs[2], dims: gpuDims(inputs[2].dims) }, 2) : undefined;
      const Y = b.output('Y', { ...outputs[0]!, dims: gpuDims(outputs[0]!.dims) });
      const n = b.uniform('n', 'u32', sizeOf(outputs[0]!.dims));
      const param = wgslParamIndex(b, p.layout);
      const body = [
        `  if (global_idx >= ${n}) { return; }`,
        `  let j = ${param}(global_idx);`,
        `  let s = ${S.get('j')};`,
        `  let r = ${wgslQuantRound(b, p.precision)}(${wgslRoundTo(b, p.precision, `f32(${X.get('global_idx')})`)}, s);`,
        `  let zp = ${Z ? `f32(${Z.get('j')})` : '0.0'};`,
        // the integer QuantizeLinear stores, then DequantizeLinear's (q - zp) * s
        `  let q = clamp(r + zp, ${p.range[0]}.0, ${p.range[1]}.0);`,
        `  ${Y.set('global_idx', `f32(i32(q) - i32(zp)) * s`)}`,
      ].join('\n');
      return { kind: 'programs', programs: [b.build({ label: `QuantizeDequantize:${ctx.node}`, body, totalInvocations: sizeOf(outputs[0]!.dims) })] };
    },
  },
];
