import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { lowerConvF32 } from '../conv/wasm.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { dequantizeWeight, floatInputs, IS, IW, IZ, layoutOf } from './op.ts';

/**
 * kiln.DequantConv in wasm: the packed int8/int4 weight dequantized once at plan time (as
 * DequantizeLinear computes it) into the f32 layout Conv's wasm kernel reads, kept in persistent
 * memory; then Conv's wasm step (kernels/conv/wasm.ts). Integer kernels come later. Declines a
 * weight, scale or zero point computed at run time (the lowering pass only writes constants).
 */
const dequantConv: WasmKernel = (inputs, outputs, ctx) => {
  const [q, scale] = [ctx.constants[IW], ctx.constants[IS]];
  const zp = inputs[IZ] ? ctx.constants[IZ] : undefined;
  if (!q || !scale || (inputs[IZ] && !zp)) return undefined;
  const layout = layoutOf(inputs, ctx);
  const weight = dequantizeWeight(q, scale, zp, layout);
  return lowerConvF32(floatInputs(inputs, ctx), outputs, ctx, weight);
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'DequantConv')]: dequantConv };
