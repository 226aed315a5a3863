import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { lowerIntMatmul } from '../wasm/gemm-s8.ts';
import { matmulIntegerPlan } from './op.ts';

/**
 * MatMulInteger in wasm: the 8-bit GEMM (kernels/wasm/gemm-s8.ts) with an int32 epilogue. A zero
 * point per row of A, or per matrix, declines (runs js).
 */
const matmulInteger: WasmKernel = (inputs, outputs, ctx) => {
  const p = matmulIntegerPlan(inputs, ctx);
  return lowerIntMatmul(inputs, outputs, ctx, { a: 0, b: 1, az: 2, bz: 3 }, p.shape);
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'MatMulInteger')]: matmulInteger };
