import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslParamIndex, wgslQuantParam, wgslQuantRound, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { planQdq } from './op.ts';

const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const gpuDims = (d: readonly number[]): readonly number[] => (d.length ? d : [1]);

/** Both steps per element in one program, with QuantizeLinear's rounding helpers. */
const quantizeDequantize: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = planQdq(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) }, 0);
  const S = wgslQuantParam(b, 'scale', ctx.constants?.[1], () => b.input('S', { ...inputs[1]!, dims: gpuDims(inputs[1]!.dims) }, 1));
  const zp = inputs[2];
  const Z = zp ? wgslQuantParam(b, 'zero_point', ctx.constants?.[2], () => b.input('Z', { ...zp, dims: gpuDims(zp.dims) }, 2)) : undefined;
  const Y = b.output('Y', { ...outputs[0]!, dims: gpuDims(outputs[0]!.dims) });
  const n = b.uniform('n', 'u32', sizeOf(outputs[0]!.dims));
  const param = wgslParamIndex(b, p.layout);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = ${param}(global_idx);`,
    `  let s = ${S('j')};`,
    `  let r = ${wgslQuantRound(b, p.precision)}(${wgslRoundTo(b, p.precision, `f32(${X.get('global_idx')})`)}, s);`,
    `  let zp = ${Z ? Z('j') : '0.0'};`,
    // the integer QuantizeLinear stores, then DequantizeLinear's (q - zp) * s
    `  let q = clamp(r + zp, ${p.range[0]}.0, ${p.range[1]}.0);`,
    `  ${Y.set('global_idx', `f32(i32(q) - i32(zp)) * s`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `QuantizeDequantize:${ctx.node}`, body, totalInvocations: sizeOf(outputs[0]!.dims) })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'QuantizeDequantize')]: quantizeDequantize };
