import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { lowerIntMatmul } from '../wasm/gemm-s8.ts';
import { fusedIoOf, hasFusedIo } from '../qlinear-conv/fused-io.ts';
import { A, AS, AZ, B, BS, BZ, ORT_REQUANT_ATTR, qlinearMatmulPlan, TABLE, YS, YZ } from './op.ts';

/**
 * QLinearMatMul in wasm: the 8-bit GEMM (kernels/wasm/gemm-s8.ts), then the requantization the
 * reference does (exact, or onnxruntime's float32 one for QDQ-lowered nodes). Scales per row of a
 * or y, per matrix, or in float16 decline (they run js).
 */
const qlinearMatmul: WasmKernel = (inputs, outputs, ctx) => {
  // a node of the WebGPU-only QDQ fusion (qlinear-conv/fused-io.ts), here after a device loss: js runs it
  if (hasFusedIo(fusedIoOf(ctx.attrs))) return undefined;
  const p = qlinearMatmulPlan(inputs, ctx);
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  return lowerIntMatmul(inputs, outputs, ctx, { a: A, az: AZ, b: B, bz: BZ }, p.shape, { scales: [AS, BS, YS], zeroPoint: YZ, mlas, range: p.range, table: TABLE });
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'QLinearMatMul')]: qlinearMatmul };
