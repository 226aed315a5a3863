import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { lowerIntConv } from '../wasm/gemm-s8.ts';
import { fusedIoOf, hasFusedIo } from './fused-io.ts';
import { B, ORT_REQUANT_ATTR, qlinearConvPlan, W, WS, WZ, X, XS, XZ, TABLE, YS, YZ } from './op.ts';

/**
 * QLinearConv in wasm: im2col + the 8-bit GEMM (kernels/wasm/gemm-s8.ts) with the int32 bias and
 * the reference's requantization per output channel (exact, or onnxruntime's float32 one for
 * QDQ-lowered nodes). 3-D convs decline (they run js).
 */
const qlinearConv: WasmKernel = (inputs, outputs, ctx) => {
  // a node of the WebGPU-only QDQ fusion (fused-io.ts), here after a device loss: js runs it
  if (hasFusedIo(fusedIoOf(ctx.attrs))) return undefined;
  const p = qlinearConvPlan(inputs, ctx);
  const mlas = ctx.attrs.int(ORT_REQUANT_ATTR, 0) === 1;
  return lowerIntConv(inputs, outputs, ctx, { x: X, xz: XZ, w: W, wz: WZ, bias: B }, p.geo, { scales: [XS, WS, YS], zeroPoint: YZ, mlas, range: p.range, table: TABLE });
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'QLinearConv')]: qlinearConv };
