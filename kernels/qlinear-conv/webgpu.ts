import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { intConvProgram } from '../conv-integer/webgpu.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import type { GpuKernelContext, WebGpuKernel } from '../webgpu/contract.ts';
import { wgslDivExact, wgslRequant } from '../webgpu/quant-wgsl.ts';
import { LOOKUP_EPILOGUE_ATTR } from '../qlinear-lookup/epilogue.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { B, ORT_REQUANT_ATTR, qlinearConvPlan, W, WS, WZ, X, XS, XZ, YS, YZ } from './op.ts';

/** ConvInteger's GPU core with the requantizing epilogue (exact division and requantization). */
const qlinearConv: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  // a folded lookup table (wasm graphs only: qlinear-lookup/epilogue.ts) has no WGSL gather here: run the js kernel
  if (ctx.attrs.int(LOOKUP_EPILOGUE_ATTR, 0) === 1) return undefined;
  const p = qlinearConvPlan(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const Xv = b.input('X', inputs[X]!, X);
  const Wv = b.input('W', inputs[W]!, W);
  const opt = (slot: number, name: string) => {
    const meta = inputs[slot];
    return meta && b.input(name, gpuMeta(meta), slot);
  };
  const xs = opt(XS, 'XS')!;
  const xz = opt(XZ, 'XZ');
  const ws = opt(WS, 'WS')!;
  const wz = opt(WZ, 'WZ');
  const ys = opt(YS, 'YS')!;
  const yz = opt(YZ, 'YZ');
  const bias = opt(B, 'BIAS');
  const Y = b.output('Y', outputs[0]!);
  const div = wgslDivExact(b);
  // MLAS: f32(acc) * multiplier in f32, WGSL round() is half-to-even; else the exact product
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  const requant = mlas ? '' : wgslRequant(b);
  const requantExpr = (acc: string): string => (mlas ? `i32(round(f32(${acc}) * mult))` : `${requant}(${acc}, mult)`);
  const program = intConvProgram({
    b, X: Xv, W: Wv, Y, geo: p.geo,
    xzp: xz ? `i32(${xz.get('0u')})` : '0',
    wzp: (co) => (wz ? `i32(${wz.get(p.wzPer ? co : '0u')})` : '0'),
    epilogue: (acc, co, o) => [
      `let mult = ${div}(${xs.get('0u')} * ${ws.get(p.wsPer ? co : '0u')}, ${ys.get('0u')});`,
      `let r = ${requantExpr(bias ? `${acc} + ${bias.get(co)}` : acc)} + ${yz ? `i32(${yz.get('0u')})` : '0'};`,
      Y.set(o, `${Y.type}(clamp(r, ${p.range[0]}, ${p.range[1]}))`),
    ].join('\n'),
    label: `QLinearConv:${ctx.node}`,
  });
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
