import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { wgslQuantRound, wgslRoundTo } from '../webgpu/quant-wgsl.ts';
import { declareQuantIo, perElement } from '../quantize-linear/webgpu-per-element.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { planQdq } from './op.ts';

/** Both steps per element in one program, with QuantizeLinear's rounding helpers and per-element form. */
const quantizeDequantize: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = planQdq(inputs, ctx);
  if (p.precision === 'float64') return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const io = declareQuantIo(b, inputs, outputs, p.layout, ctx);
  const { s, z } = io;
  const qround = wgslQuantRound(b, p.precision);
  const zp = (j: string): string => (z ? z(j) : '0.0');
  // the integer QuantizeLinear stores, then DequantizeLinear's (q - zp) * s
  const value = (x: string, j: string): string =>
    `f32(i32(clamp(${qround}(${wgslRoundTo(b, p.precision, `f32(${x})`)}, ${s(j)}) + ${zp(j)}, ${p.range[0]}.0, ${p.range[1]}.0)) - i32(${zp(j)})) * ${s(j)}`;
  return { kind: 'programs', programs: [perElement(b, io, p.layout, value, `QuantizeDequantize:${ctx.node}`)] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'QuantizeDequantize')]: quantizeDequantize };
