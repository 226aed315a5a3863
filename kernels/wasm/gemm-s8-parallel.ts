// The 8-bit integer kernels on the wasm thread pool (kernels/wasm/src/gemm-s8-parts.c): a GEMM splits
// by rows of A when it has more 4-row tiles than 8-column panels, else by panels; a depthwise conv by
// channel planes, each part with its own padded plane in scratch. Integer sums are exact and the
// epilogues per element, so every split gives the single-threaded bytes.
import { MAX_ROW_PARTS, type WasmKernels } from './contract.ts';

/**
 * kiln_gemm_s16 with its 18 arguments (a, lda, bp, c, ldc, m, n, kp, mode, bias, bias_per_row, mult,
 * mult_per_row, zp, lo, hi, table, flip), split across the pool above its threshold.
 */
export function gemmS16(k: WasmKernels, args: readonly number[]): void {
  const [m, n, kp] = [args[5]!, args[6]!, args[7]!];
  const panels = Math.ceil(n / 8);
  const byRows = Math.ceil(m / 4) >= panels;
  k.parallelRows('kiln_gemm_s16_part', { args: [...args, byRows ? 1 : 0], floats: 0, rows: byRows ? m : panels, scratchArg: 0, scratchStride: 0, work: m * n * kp });
}

/** Scratch a depthwise step reserves: one padded int16 plane per part. */
export const dwconvScratchBytes = (planeBytes: number): number => MAX_ROW_PARTS * planeBytes;

/**
 * kiln_dwconv_s16 with its 28 arguments (x, is_signed, xz, w, y, batch, channels, ih, iw, oh, ow, kh,
 * kw, ..., flip, scratch), split by the batch * channels planes; part i's plane at scratch + i * planeBytes.
 */
export function dwconvS16(k: WasmKernels, args: readonly number[], planeBytes: number): void {
  const [batch, channels, oh, ow, kh, kw] = [args[5]!, args[6]!, args[9]!, args[10]!, args[11]!, args[12]!];
  // weighted 2x: a depthwise tap is ~half the multiply-adds per instruction of the GEMM's dot tile
  const work = 2 * batch * channels * oh * ow * kh * kw;
  k.parallelRows('kiln_dwconv_s16_part', { args, floats: 0, rows: batch * channels, scratchArg: 27, scratchStride: planeBytes, work });
}
