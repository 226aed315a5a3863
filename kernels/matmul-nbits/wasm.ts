import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { toNumbers } from '../common/values.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { IA, IB, IBIAS, IG, IS, IZ, nbitsPlan } from './op.ts';

/**
 * com.microsoft MatMulNBits in wasm (kernels/wasm/src/matmul-nbits.c): 4-bit and 8-bit blocks stay
 * packed; at session creation the weights are repacked so SIMD unpacks runs of consecutive k (see
 * the C file), and scales and zero points become float32 per (row, block). f32 accumulation, as
 * onnxruntime's default accuracy level. 2-bit weights, g_idx, float16, and weights, scales or zero
 * points computed at run time decline (they run js).
 */
const ALIGN = 16;
const up = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

const matmulNBits: WasmKernel = (inputs, outputs, ctx) => {
  const p = nbitsPlan(inputs, ctx);
  const [q, s, z] = [ctx.constants[IB], ctx.constants[IS], inputs[IZ] ? ctx.constants[IZ] : undefined];
  const bias = inputs[IBIAS];
  if (inputs[IA]?.dtype !== 'float32' || (p.bits !== 4 && p.bits !== 8) || inputs[IG] || !q || !s || (inputs[IZ] && !z) || (bias && bias.dtype !== 'float32')) return undefined;
  const { M, N, K, bits, blockSize: bs, nBlocks, blob } = p;
  if (M * N === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const rowBytes = nBlocks * blob;
  // uint8 (or default) zero points are integers: the kernel subtracts them exactly in i16
  const intZp = !z || p.zp !== 'float' ? 1 : 0;
  let f: WasmExport | undefined;
  return {
    reads: [IA, ...(bias ? [IBIAS] : [])],
    scratchBytes: 0,
    persistentBytes: [up(N * rowBytes), up(N * nBlocks * 4), up(N * nBlocks * 4)],
    prepare(k, at) {
      f = k.fn('kiln_nbits_f32');
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
      f ??= k.fn('kiln_nbits_f32');
      f(at.inputs[IA]!, M, K, at.persistent[0]!, bits, bs, nBlocks, at.persistent[1]!, at.persistent[2]!, intZp, bias ? at.inputs[IBIAS]! : 0, at.outputs[0]!, N);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('com.microsoft', 'MatMulNBits')]: matmulNBits };
