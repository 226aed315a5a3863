import type { DataType } from '../../core/dtype.ts';
import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { wgslDivExact, wgslQuantizeFinish, wgslQuantRound, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { declareQuantIo, gpuDims, perElement } from './webgpu-per-element.ts';
import { product } from '../common/shape.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { workgroupReduce } from '../webgpu/wg-reduce.ts';
import { inferDynamic, planDequantize, planQuantize } from './op.ts';


function quantizeWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): GpuProgram[] | undefined {
  const p = planQuantize(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const io = declareQuantIo(b, inputs, outputs, p.layout, ctx);
  const { s, z, Y } = io;
  // float32 per tensor: the vec4 form rounds four lanes together (wgslQuantizeFinish), the same integers
  if (p.layout.kind === 'tensor' && p.precision === 'float32' && inputs[0]!.dtype === 'float32' && (Y.type === 'u32' || Y.type === 'i32')) {
    const finish = wgslQuantizeFinish(b, s('0u'), z ? z('0u') : '0.0', p.range[0], p.range[1], Y.type);
    return [perElement(b, io, p.layout, (x) => x, `QuantizeLinear:${ctx.node}`, finish)];
  }
  const qround = wgslQuantRound(b, p.precision);
  const value = (x: string, j: string): string =>
    `${Y.type}(clamp(${qround}(${wgslRoundTo(b, p.precision, `f32(${x})`)}, ${s(j)}) + ${z ? z(j) : '0.0'}, ${p.range[0]}.0, ${p.range[1]}.0))`;
  return [perElement(b, io, p.layout, value, `QuantizeLinear:${ctx.node}`)];
}

function dequantizeWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): GpuProgram[] | undefined {
  const p = planDequantize(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const io = declareQuantIo(b, inputs, outputs, p.layout, ctx);
  const { s, z } = io;
  const value = (x: string, j: string): string => `f32(i32(${x})${z ? ` - i32(${z(j)})` : ''}) * ${s(j)}`;
  return [perElement(b, io, p.layout, value, `DequantizeLinear:${ctx.node}`)];
}

/** Two programs: one workgroup reduces min/max and writes scale and zero point; then elementwise. */
function dynamicWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): { programs: GpuProgram[]; temps: TensorMeta[] } {
  inferDynamic(inputs, ctx);
  const n = product(inputs[0]!.dims);
  const x = { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) };
  const temps: TensorMeta[] = [];
  // an unused scale / zero-point output has no buffer: compute it into a scratch tensor instead
  const param = (name: string, slot: number, dtype: DataType, b: ShaderBuilder) => {
    const meta = { dtype, dims: [1] };
    if (outputs[slot] && product(outputs[slot].dims) === 1) return b.output(name, meta, slot);
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

const quantize: WebGpuKernel = (inputs, outputs, ctx) => {
  const programs = quantizeWebgpu(inputs, outputs, ctx);
  return programs && { kind: 'programs', programs };
};

const dequantize: WebGpuKernel = (inputs, outputs, ctx) => {
  const programs = dequantizeWebgpu(inputs, outputs, ctx);
  return programs && { kind: 'programs', programs };
};

const dynamic: WebGpuKernel = (inputs, outputs, ctx) => ({ kind: 'programs', ...dynamicWebgpu(inputs, outputs, ctx) });

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'QuantizeLinear')]: quantize,
  [opKey('', 'DequantizeLinear')]: dequantize,
  [opKey('', 'DynamicQuantizeLinear')]: dynamic,
};
