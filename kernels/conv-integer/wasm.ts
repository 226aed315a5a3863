import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { lowerIntConv } from '../wasm/gemm-s8.ts';
import { convIntegerPlan } from './op.ts';

/** ConvInteger in wasm: im2col + the 8-bit GEMM (kernels/wasm/gemm-s8.ts), int32 out; 3-D convs decline. */
const convInteger: WasmKernel = (inputs, outputs, ctx) => {
  const p = convIntegerPlan(inputs, ctx);
  return lowerIntConv(inputs, outputs, ctx, { x: 0, w: 1, xz: 2, wz: 3 }, p.geo);
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'ConvInteger')]: convInteger };
