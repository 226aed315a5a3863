import { Tensor } from '../../core/tensor.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { toNumbers } from '../common/values.ts';
import { MAX_ROW_PARTS, packedBBytes, type WasmKernel, type WasmKernelContext, type WasmStep } from '../wasm/contract.ts';
import { dequantizeNBits, IA, IB, IBIAS, IG, IS, IZ, nbitsPlan, type NBitsPlan } from './op.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

/**
 * com.microsoft MatMulNBits in wasm (kernels/wasm/src/matmul-nbits.c): 4-bit and 8-bit blocks stay
 * packed; at session creation the weights are repacked so SIMD unpacks runs of consecutive k (see
 * the C file), and scales and zero points become float32 per (row, block). f32 accumulation, as
 * onnxruntime's default accuracy level. 2-bit weights, g_idx, float16, and weights, scales or zero
 * points computed at run time decline (they run js).
 *
 * From PREFILL_ROWS rows of A on (a prompt), kiln_nbits_gemm_f32 dequantizes each K chunk x 8-column
 * panel of W once per call into scratch, in the f32 GEMM's panel layout, and runs the f32 GEMM over
 * all rows; the thread pool splits it by panels. No dequantized copy of W is kept: the int4 bundle's
 * small memory footprint is the point of int4.
 *
 * Except for small weights: where W as float32 takes at most F32_COPY_BYTES, it is dequantized once
 * at session creation (w = (q - zp) * scale rounded to f32, the reference's weights) and packed as the
 * float MatMul packs its weights, and every run is the float GEMM. A cache-resident W is not memory
 * bound, and there unpacking costs more than the multiply-adds (4-bit 64x256 at M = 1: 7.6 us packed
 * vs 4.8 us copied; bench/node/nbits-copy-bench.ts, docs/decisions.md wasm-int8-run). The limit is
 * memory's: larger W stay packed, as int4 is chosen for its size.
 */
const ALIGN = 16;
const up = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
/** Rows of A from which the dequantize-then-GEMM path runs (docs/decisions.md, wasm-prefill). */
export const PREFILL_ROWS = 4;
/** K rows per dequantized chunk (a multiple of the block size) and 8-column panels per chunk: 256 x 64 floats = 64 KB */
const chunkRows = (bs: number): number => Math.max(256, bs);
const CHUNK_PANELS = 8;
/** Largest float32 W (bytes) kept as a dequantized copy (benches and tests set KILN_NBITS_F32_BYTES, core/dev-knobs.ts; 0: never). */
export const F32_COPY_BYTES = 1024 * 1024;

/** The float GEMM over a dequantized copy of W, packed at session creation (with a constant bias in its bias row). */
function f32Copy(p: NBitsPlan, ctx: WasmKernelContext, hasBias: boolean): WasmStep {
  const { M, N, K } = p;
  const biasConst = hasBias ? ctx.constants[IBIAS] : undefined;
  return {
    reads: [IA],
    scratchBytes: 0,
    persistentBytes: [packedBBytes(K, N)],
    prepare(k, at) {
      // dequantized here, not when the node is lowered: the JS copy is garbage once packed
      const w = dequantizeNBits(ctx.constants, p, ctx);
      k.packBF32({ b: at.stage(new Tensor('float32', w, [N, K])), ldb: K, k: K, n: N, transB: true, bias: biasConst ? at.stage(biasConst) : undefined, out: at.persistent[0]! });
    },
    run(k, at) {
      k.gemmF32({ a: at.inputs[IA]!, lda: K, bPacked: at.persistent[0]!, c: at.outputs[0]!, ldc: N, m: M, n: N, k: K });
    },
  };
}

const matmulNBits: WasmKernel = (inputs, outputs, ctx) => {
  if (ctx.attrs.has('kiln_epilogue_steps')) return undefined; // a WebGPU-fusion epilogue: the js kernel applies it
  const p = nbitsPlan(inputs, ctx);
  const [q, s, z] = [ctx.constants[IB], ctx.constants[IS], inputs[IZ] ? ctx.constants[IZ] : undefined];
  const bias = inputs[IBIAS];
  if (inputs[IA]?.dtype !== 'float32' || (p.bits !== 4 && p.bits !== 8) || inputs[IG] || !q || !s || (inputs[IZ] && !z) || (bias && bias.dtype !== 'float32')) return undefined;
  const { M, N, K, bits, blockSize: bs, nBlocks, blob } = p;
  if (M * N === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const copyBytes = devKnobs.KILN_NBITS_F32_BYTES ?? F32_COPY_BYTES;
  if (N * K * 4 <= copyBytes && (!bias || ctx.constants[IBIAS])) return f32Copy(p, ctx, bias !== undefined);
  const rowBytes = nBlocks * blob;
  // uint8 (or default) zero points are integers: the kernel subtracts them exactly in i16
  const intZp = !z || p.zp !== 'float' ? 1 : 0;
  // benches set KILN_NBITS_PREFILL_ROWS (core/dev-knobs.ts) (Infinity: the per-row kernel at every M) to compare
  const prefill = M >= (devKnobs.KILN_NBITS_PREFILL_ROWS ?? PREFILL_ROWS);
  const kc = chunkRows(bs);
  const panels = Math.ceil(N / 8);
  const partBytes = up(Math.min(CHUNK_PANELS, panels) * (Math.min(kc, K) + 1) * 8 * 4);
  return {
    reads: [IA, ...(bias ? [IBIAS] : [])],
    scratchBytes: prefill ? MAX_ROW_PARTS * partBytes : 0,
    persistentBytes: [up(N * rowBytes), up(N * nBlocks * 4), up(N * nBlocks * 4)],
    prepare(k, at) {
      k.fn(prefill ? 'kiln_nbits_gemm_f32' : 'kiln_nbits_f32_part'); // a stale module fails at session creation
      const src = q.data as Uint8Array;
      const dst = new Uint8Array(k.memory.buffer, at.persistent[0]!, N * rowBytes);
      if (bits === 8) dst.set(src.subarray(0, N * rowBytes));
      else {
        const g = Math.min(32, bs);
        const half = g / 2;
        for (let n = 0; n < N; n++) for (let blk = 0; blk < nBlocks; blk++) {
          const from = (n * nBlocks + blk) * blob;
          const to = n * rowBytes + blk * (bs / 2);
          for (let i = 0; i < bs; i++) {
            const v = (src[from + (i >> 1)]! >> ((i & 1) * 4)) & 15;
            const j = i % g;
            const at = to + Math.floor(i / g) * half + (j % half);
            dst[at] = j < half ? (dst[at]! & 0xf0) | v : (dst[at]! & 0x0f) | (v << 4);
          }
        }
      }
      new Float32Array(k.memory.buffer, at.persistent[1]!, N * nBlocks).set(toNumbers(s));
      const zps = new Float32Array(k.memory.buffer, at.persistent[2]!, N * nBlocks);
      const mask = (1 << bits) - 1;
      if (!z) zps.fill(1 << (bits - 1));
      else if (p.zp === 'float') zps.set(toNumbers(z));
      else {
        const zb = z.data as Uint8Array;
        for (let n = 0; n < N; n++) for (let blk = 0; blk < nBlocks; blk++) zps[n * nBlocks + blk] = (zb[n * p.zpRowBytes + ((blk * bits) >> 3)]! >> ((blk * bits) & 7)) & mask;
      }
    },
    run(k, at) {
      if (prefill) {
        const args = [at.inputs[IA]!, M, K, at.persistent[0]!, bits, bs, nBlocks, at.persistent[1]!, at.persistent[2]!, intZp, bias ? at.inputs[IBIAS]! : 0, at.outputs[0]!, N, kc, CHUNK_PANELS, at.scratch];
        k.parallelRows('kiln_nbits_gemm_f32', { args, floats: 0, rows: panels, scratchArg: args.length - 1, scratchStride: partBytes, work: M * N * K });
        return;
      }
      // M = 1..3: column groups of 4 split across the pool (each column computed alike in any part)
      const args = [at.inputs[IA]!, M, K, at.persistent[0]!, bits, bs, nBlocks, at.persistent[1]!, at.persistent[2]!, intZp, bias ? at.inputs[IBIAS]! : 0, at.outputs[0]!, N];
      k.parallelRows('kiln_nbits_f32_part', { args, floats: 0, rows: Math.ceil(N / 4), scratchArg: 0, scratchStride: 0, work: M * N * K });
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('com.microsoft', 'MatMulNBits')]: matmulNBits };
