import { applyActivation, type ActivationSpec } from './activation.ts';

/**
 * Batched, strided matrix product on the CPU (MatMul and Gemm reference and CPU backend):
 *
 *   Y[b, m, n] = act(alpha * sum_k A[b, m, k] * B[b, k, n] + beta * C[b, m, n])
 *
 * Operands are addressed like the GPU kernel's (kernels/common/tiled-matmul.ts): element strides per
 * output batch dim (0 broadcasts), per row and per column. The hot loop is i-k-j over contiguous B
 * rows, blocked so a KB x NB panel of B stays in cache, with 4 rows of A per pass so each B load
 * feeds 8 multiply-adds. Sums are kept in a float64 scratch, so every float type gets the same result.
 */

export type NumArray = Float32Array | Float64Array;

export interface CpuMatmulOperand {
  readonly data: NumArray;
  readonly batchStrides: readonly number[];
  readonly rowStride: number;
  readonly colStride: number;
}

export interface CpuMatmulSpec {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly batchDims: readonly number[];
  readonly a: CpuMatmulOperand;
  readonly b: CpuMatmulOperand;
  readonly c?: CpuMatmulOperand;
  readonly alpha?: number;
  readonly beta?: number;
  readonly activation?: ActivationSpec;
}

const NB = 256;
const KB = 128;

/** Returns Y as float64, [batch, M, N] contiguous. */
export function matmulCpu(spec: CpuMatmulSpec): Float64Array {
  const { M, N, K, batchDims, a, b, c } = spec;
  const batch = batchDims.reduce((p, d) => p * d, 1);
  const out = new Float64Array(batch * M * N);
  if (out.length === 0) return out;
  const alpha = spec.alpha ?? 1;
  const beta = spec.beta ?? 1;
  const act = spec.activation && spec.activation.kind !== 'none' ? spec.activation : undefined;
  // B rows must be contiguous for the inner loop; other layouts are packed per batch (K*N work).
  const packB = b.colStride !== 1 && N > 1 ? new Float64Array(K * N) : undefined;
  let packedFrom = -1;
  const idx = new Array<number>(batchDims.length).fill(0);
  for (let z = 0; z < batch; z++) {
    let aOff = 0, bOff = 0, cOff = 0;
    for (let d = 0; d < idx.length; d++) {
      aOff += idx[d]! * a.batchStrides[d]!;
      bOff += idx[d]! * b.batchStrides[d]!;
      if (c) cOff += idx[d]! * c.batchStrides[d]!;
    }
    const yOff = z * M * N;
    if (K > 0) {
      let bData: NumArray = b.data;
      let bBase = bOff;
      let bRow = b.rowStride;
      if (packB) {
        if (packedFrom !== bOff) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) packB[k * N + n] = b.data[bOff + k * b.rowStride + n * b.colStride]!;
        packedFrom = bOff;
        bData = packB;
        bBase = 0;
        bRow = N;
      }
      gemmBlocked(a.data, aOff, a.rowStride, a.colStride, bData, bBase, bRow, out, yOff, M, N, K);
    }
    if (alpha !== 1 || c || act) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let v = alpha * out[yOff + m * N + n]!;
          if (c) v += beta * c.data[cOff + m * c.rowStride + n * c.colStride]!;
          out[yOff + m * N + n] = act ? applyActivation(act, v) : v;
        }
      }
    }
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < batchDims[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** y[yOff + m*N + n] = sum_k a[aOff + m*ars + k*acs] * b[bOff + k*brs + n]; y starts at zero. */
function gemmBlocked(a: NumArray, aOff: number, ars: number, acs: number, b: NumArray, bOff: number, brs: number, y: Float64Array, yOff: number, M: number, N: number, K: number): void {
  for (let j0 = 0; j0 < N; j0 += NB) {
    const j1 = Math.min(N, j0 + NB);
    for (let k0 = 0; k0 < K; k0 += KB) {
      const k1 = Math.min(K, k0 + KB);
      let i = 0;
      for (; i + 3 < M; i += 4) {
        const y0 = yOff + i * N, y1 = y0 + N, y2 = y1 + N, y3 = y2 + N;
        const a0 = aOff + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        let k = k0;
        for (; k + 1 < k1; k += 2) {
          const ka = k * acs, kb = ka + acs;
          const x0 = a[a0 + ka]!, x1 = a[a1 + ka]!, x2 = a[a2 + ka]!, x3 = a[a3 + ka]!;
          const w0 = a[a0 + kb]!, w1 = a[a1 + kb]!, w2 = a[a2 + kb]!, w3 = a[a3 + kb]!;
          const p = bOff + k * brs, q = p + brs;
          for (let j = j0; j < j1; j++) {
            const u = b[p + j]!, v = b[q + j]!;
            y[y0 + j] += x0 * u + w0 * v;
            y[y1 + j] += x1 * u + w1 * v;
            y[y2 + j] += x2 * u + w2 * v;
            y[y3 + j] += x3 * u + w3 * v;
          }
        }
        for (; k < k1; k++) {
          const ka = k * acs;
          const x0 = a[a0 + ka]!, x1 = a[a1 + ka]!, x2 = a[a2 + ka]!, x3 = a[a3 + ka]!;
          const p = bOff + k * brs;
          for (let j = j0; j < j1; j++) {
            const u = b[p + j]!;
            y[y0 + j] += x0 * u;
            y[y1 + j] += x1 * u;
            y[y2 + j] += x2 * u;
            y[y3 + j] += x3 * u;
          }
        }
      }
      for (; i < M; i++) {
        const y0 = yOff + i * N;
        const a0 = aOff + i * ars;
        for (let k = k0; k < k1; k++) {
          const x = a[a0 + k * acs]!;
          const p = bOff + k * brs;
          for (let j = j0; j < j1; j++) y[y0 + j] += x * b[p + j]!;
        }
      }
    }
  }
}
