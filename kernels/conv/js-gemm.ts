import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../common/values.ts';

// The im2col panels and the 4x4 register-blocked microkernel Conv's CPU paths share (js.ts,
// js-transpose.ts).

export type FloatArray = Float32Array | Float64Array;

export const MR = 4; // output channels per register block
export const NR = 4; // output positions per register block
/** pixels per im2col chunk are chosen so a chunk's panels stay near this many floats (L2-sized) */
export const CHUNK_FLOATS = 1 << 16;

let colScratch = new Float32Array(0);

/** A reused panel buffer of at least `need` floats. */
export function colScratchOf(need: number): Float32Array {
  if (colScratch.length < need) colScratch = new Float32Array(need);
  return colScratch;
}

export function floatData(t: AnyTensor): FloatArray {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float64') return t.data as Float64Array;
  return toNumbers(t);
}

/** im2col of output positions [p0, p0+pn) into panels [pos block][k][NR]; padding reads as 0. */
export function packCols(x: FloatArray, xOff: number, inS: number, taps: Int32Array, S: number, T: number, cinG: number, p0: number, pn: number, col: Float32Array): void {
  const K = cinG * T;
  const padded = Math.ceil(pn / NR) * NR;
  for (let ci = 0; ci < cinG; ci++) {
    const src = xOff + ci * inS;
    for (let t = 0; t < T; t++) {
      const k = ci * T + t;
      const row = t * S + p0;
      for (let q = 0; q < padded; q++) {
        const off = q < pn ? taps[row + q]! : -1;
        col[((q >> 2) * K + k) * NR + (q & 3)] = off >= 0 ? x[src + off]! : 0;
      }
    }
  }
}

/** acc[i*NR+j] = sum_k wp[wOff + k*MR + i] * col[cOff + k*NR + j], sixteen accumulators in registers. */
export function microKernel(wp: Float32Array, wOff: number, col: Float32Array, cOff: number, K: number, acc: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let wi = wOff;
  let ci = cOff;
  for (let k = 0; k < K; k++, wi += 4, ci += 4) {
    const a0 = wp[wi]!, a1 = wp[wi + 1]!, a2 = wp[wi + 2]!, a3 = wp[wi + 3]!;
    const b0 = col[ci]!, b1 = col[ci + 1]!, b2 = col[ci + 2]!, b3 = col[ci + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c03;
  acc[4] = c10; acc[5] = c11; acc[6] = c12; acc[7] = c13;
  acc[8] = c20; acc[9] = c21; acc[10] = c22; acc[11] = c23;
  acc[12] = c30; acc[13] = c31; acc[14] = c32; acc[15] = c33;
}
