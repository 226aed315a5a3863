import type { AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { paramIndexMap, precisionOf, QUANT_TYPES, quantizeValue, quantParamLayout, quantRange, roundHalfEven, roundTo, widerPrecision, clampTo, type FloatPrecision, type QuantParamLayout } from '../common/quant.ts';
import { wgslDivExact, wgslParamIndex, wgslQuantRound, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { workgroupReduce } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuProgram } from '../webgpu/contract.ts';

/**
 * QuantizeLinear, DequantizeLinear (opsets 10 to 25: per-tensor, per-axis, blocked; integer
 * types only, Kiln has no float8/float4 dtypes) and DynamicQuantizeLinear. Elementwise on the GPU:
 * one invocation per element, the parameter index from common/quant.ts.
 */

const DQ_INPUT_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'int4', 'uint4'] as const;
const Q_INPUT_TYPES = [...FLOAT_TYPES, 'int32'] as const;

const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const gpuDims = (d: readonly number[]): readonly number[] => (d.length ? d : [1]);

function outputTypeAttr(ctx: KernelContext): DataType | undefined {
  const code = ctx.attrs.int('output_dtype', 0);
  return code === 0 ? undefined : dataTypeFromOnnx(code, `node '${ctx.node}' output_dtype`);
}

// ---------------------------------------------------------------------------------------------
// QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point)
// ---------------------------------------------------------------------------------------------

interface QuantizePlan {
  readonly out: TensorMeta;
  readonly layout: QuantParamLayout;
  readonly range: readonly [number, number];
  /** the float type x / scale is computed in */
  readonly precision: FloatPrecision;
}

function planQuantize(inputs: readonly MaybeMeta[], ctx: KernelContext): QuantizePlan {
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

function quantizeCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
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

/** X, scale, optional zero point and Y, plus the element -> parameter index, for both directions. */
function declareQuantIo(b: ShaderBuilder, inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], layout: Parameters<typeof wgslParamIndex>[1]) {
  const X = b.input('X', { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) }, 0);
  const S = b.input('S', { ...inputs[1]!, dims: gpuDims(inputs[1]!.dims) }, 1);
  const Z = inputs[2] ? b.input('Z', { ...inputs[2], dims: gpuDims(inputs[2].dims) }, 2) : undefined;
  const Y = b.output('Y', { ...outputs[0]!, dims: gpuDims(outputs[0]!.dims) });
  const n = b.uniform('n', 'u32', sizeOf(outputs[0]!.dims));
  return { X, S, Z, Y, n, param: wgslParamIndex(b, layout) };
}

function quantizeWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): GpuProgram[] | undefined {
  const p = planQuantize(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const { X, S, Z, Y, n, param } = declareQuantIo(b, inputs, outputs, p.layout);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = ${param}(global_idx);`,
    `  let r = ${wgslQuantRound(b, p.precision)}(${wgslRoundTo(b, p.precision, `f32(${X.get('global_idx')})`)}, ${S.get('j')});`,
    `  let zp = ${Z ? `f32(${Z.get('j')})` : '0.0'};`,
    `  ${Y.set('global_idx', `${Y.type}(clamp(r + zp, ${p.range[0]}.0, ${p.range[1]}.0))`)}`,
  ].join('\n');
  return [b.build({ label: `QuantizeLinear:${ctx.node}`, body, totalInvocations: sizeOf(outputs[0]!.dims) })];
}

// ---------------------------------------------------------------------------------------------
// DequantizeLinear: y = (x - zero_point) * scale
// ---------------------------------------------------------------------------------------------

interface DequantizePlan {
  readonly out: TensorMeta;
  readonly layout: QuantParamLayout;
  readonly precision: FloatPrecision;
}

function planDequantize(inputs: readonly MaybeMeta[], ctx: KernelContext): DequantizePlan {
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

function dequantizeCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
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

function dequantizeWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): GpuProgram[] | undefined {
  const p = planDequantize(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const { X, S, Z, Y, n, param } = declareQuantIo(b, inputs, outputs, p.layout);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = ${param}(global_idx);`,
    `  let d = i32(${X.get('global_idx')})${Z ? ` - i32(${Z.get('j')})` : ''};`,
    `  ${Y.set('global_idx', `f32(d) * ${S.get('j')}`)}`,
  ].join('\n');
  return [b.build({ label: `DequantizeLinear:${ctx.node}`, body, totalInvocations: sizeOf(outputs[0]!.dims) })];
}

// ---------------------------------------------------------------------------------------------
// DynamicQuantizeLinear: uint8, scale and zero point from min/max of x widened to include 0.
// Each step rounds to float32 as the ONNX reference (numpy float32) does.
// ---------------------------------------------------------------------------------------------

function inferDynamic(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[] {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, ['float32'], ctx, 'x');
  return [{ dtype: 'uint8', dims: x.dims }, { dtype: 'float32', dims: [] }, { dtype: 'uint8', dims: [] }];
}

function dynamicCpu(inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
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

/** Two programs: one workgroup reduces min/max and writes scale and zero point; then elementwise. */
function dynamicWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): { programs: GpuProgram[]; temps: TensorMeta[] } {
  inferDynamic(inputs, ctx);
  const n = sizeOf(inputs[0]!.dims);
  const x = { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) };
  const temps: TensorMeta[] = [];
  // an unused scale / zero-point output has no buffer: compute it into a scratch tensor instead
  const param = (name: string, slot: number, dtype: DataType, b: ShaderBuilder) => {
    const meta = { dtype, dims: [1] };
    if (outputs[slot] && sizeOf(outputs[slot].dims) === 1) return b.output(name, meta, slot);
    let t = temps.findIndex((m) => m.dtype === dtype);
    if (t < 0) t = temps.push(meta) - 1;
    return b.temp(name, meta, t);
  };
  const wg = Math.min(256, ctx.caps.maxInvocationsPerWorkgroup);
  const r = new ShaderBuilder(ctx.caps);
  const X1 = r.input('X', x, 0);
  const S1 = param('S', 1, 'float32', r);
  const Z1 = param('Z', 2, 'uint8', r);
  const n1 = r.uniform('n', 'u32', n);
  const wmin = workgroupReduce(r, 'min', 'f32', wg);
  const wmax = workgroupReduce(r, 'max', 'f32', wg);
  const reduce = [
    '  var lo = 0.0;',
    '  var hi = 0.0;',
    `  for (var i = local_idx; i < ${n1}; i += ${wg}u) {`,
    `    let v = ${X1.get('i')};`,
    '    lo = min(lo, v);',
    '    hi = max(hi, v);',
    '  }',
    `  let mn = ${wmin}(local_idx, lo);`,
    `  let mx = ${wmax}(local_idx, hi);`,
    '  if (local_idx == 0u) {',
    `    let scale = select(${wgslDivExact(r)}(mx - mn, 255.0), 1.0, mx == mn);`,
    `    ${S1.set('0u', 'scale')}`,
    `    ${Z1.set('0u', `u32(round(clamp(-${wgslDivExact(r)}(mn, scale), 0.0, 255.0)))`)}`,
    '  }',
  ].join('\n');
  const q = new ShaderBuilder(ctx.caps);
  const X2 = q.input('X', x, 0);
  const S2 = param('S', 1, 'float32', q);
  const Z2 = param('Z', 2, 'uint8', q);
  const Y = q.output('Y', { dtype: 'uint8', dims: x.dims }, 0);
  const n2 = q.uniform('n', 'u32', n);
  const quant = [
    `  if (global_idx >= ${n2}) { return; }`,
    `  let v = ${wgslQuantRound(q, 'float32')}(${X2.get('global_idx')}, ${S2.get('0u')}) + f32(${Z2.get('0u')});`,
    `  ${Y.set('global_idx', 'u32(clamp(v, 0.0, 255.0))')}`,
  ].join('\n');
  return {
    programs: [
      r.build({ label: `DynamicQuantizeLinear:${ctx.node}:range`, body: reduce, totalInvocations: wg, workgroupSize: wg }),
      q.build({ label: `DynamicQuantizeLinear:${ctx.node}`, body: quant, totalInvocations: n }),
    ],
    temps,
  };
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'QuantizeLinear',
    inferOutputs: (inputs, ctx) => [planQuantize(inputs, ctx).out],
    cpu: quantizeCpu,
    webgpu(inputs, outputs, ctx) {
      const programs = quantizeWebgpu(inputs, outputs, ctx);
      return programs && { kind: 'programs', programs };
    },
  },
  {
    opType: 'DequantizeLinear',
    inferOutputs: (inputs, ctx) => [planDequantize(inputs, ctx).out],
    cpu: dequantizeCpu,
    webgpu(inputs, outputs, ctx) {
      const programs = dequantizeWebgpu(inputs, outputs, ctx);
      return programs && { kind: 'programs', programs };
    },
  },
  {
    opType: 'DynamicQuantizeLinear',
    inferOutputs: inferDynamic,
    cpu: dynamicCpu,
    webgpu(inputs, outputs, ctx) {
      return { kind: 'programs', ...dynamicWebgpu(inputs, outputs, ctx) };
    },
  },
];
