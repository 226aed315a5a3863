import { applyActivation, type ActivationSpec } from '../common/activation.ts';
import type { ConvGeometry } from '../common/conv-attributes.ts';
import { product } from '../common/shape.ts';
import { CHUNK_FLOATS, colScratchOf, microKernel, MR, NR, packCols, type FloatArray } from './js-gemm.ts';

/** For each tap and input position: the flat output spatial offset it adds to, or -1 (ConvTranspose). */
function scatterTable(g: ConvGeometry): Int32Array {
  const s = g.inDims.length;
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const outStrides = new Array<number>(s);
  for (let d = s - 1, acc = 1; d >= 0; d--) {
    outStrides[d] = acc;
    acc *= g.outDims[d]!;
  }
  const table = new Int32Array(T * inS);
  const j = new Array<number>(s).fill(0);
  const i = new Array<number>(s).fill(0);
  for (let tap = 0; tap < T; tap++) {
    i.fill(0);
    for (let p = 0; p < inS; p++) {
      let off = 0;
      for (let d = 0; d < s; d++) {
        const o = i[d]! * g.strides[d]! - g.padBegin[d]! + j[d]! * g.dilations[d]!;
        if (o < 0 || o >= g.outDims[d]!) {
          off = -1;
          break;
        }
        off += o * outStrides[d]!;
      }
      table[tap * inS + p] = off;
      for (let d = s - 1; d >= 0 && ++i[d]! === g.inDims[d]!; d--) i[d] = 0;
    }
    for (let d = s - 1; d >= 0 && ++j[d]! === g.kernel[d]!; d--) j[d] = 0;
  }
  return table;
}

/**
 * ConvTranspose with several input channels per group, as a GEMM over input positions,
 * C[(co, tap)][p] = sum_ci W[ci][co][tap] * X[ci][p], whose values are then added to output
 * position p * stride - pad + tap * dilation (col2im). Gathering instead would multiply by the
 * taps that fall between input pixels: (stride^2 - 1) / stride^2 of the work for 2-D stride 2.
 */
export function transposeCpu(x: FloatArray, w: FloatArray, bias: FloatArray | undefined, g: ConvGeometry, act: ActivationSpec, y: FloatArray): void {
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const M = g.coutG * T;
  const K = g.cinG;
  const scatter = scatterTable(g);
  const identity = Int32Array.from({ length: inS }, (_, p) => p);
  // W[grp][ci][m = co * T + tap] packed as [grp][m block][ci][MR]
  const blocks = Math.ceil(M / MR);
  const wp = new Float32Array(g.group * blocks * K * MR);
  for (let grp = 0; grp < g.group; grp++) {
    for (let ci = 0; ci < K; ci++) {
      const src = (grp * K + ci) * M;
      for (let m = 0; m < M; m++) wp[((grp * blocks + Math.floor(m / MR)) * K + ci) * MR + (m % MR)] = w[src + m]!;
    }
  }
  const chunk = Math.max(NR, Math.floor(CHUNK_FLOATS / K / NR) * NR);
  const need = Math.min(chunk, Math.ceil(inS / NR) * NR) * K;
  const col = colScratchOf(need);
  const acc = new Float64Array(MR * NR);
  const yacc = new Float64Array(g.coutG * S);
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.group; grp++) {
      for (let co = 0; co < g.coutG; co++) yacc.fill(bias ? bias[grp * g.coutG + co]! : 0, co * S, (co + 1) * S);
      const xOff = (n * g.group + grp) * K * inS;
      for (let p0 = 0; p0 < inS; p0 += chunk) {
        const pn = Math.min(chunk, inS - p0);
        packCols(x, xOff, inS, identity, inS, 1, K, p0, pn, col);
        for (let pb = 0; pb < pn; pb += NR) {
          const cols = Math.min(NR, pn - pb);
          for (let mb = 0; mb < blocks; mb++) {
            microKernel(wp, (grp * blocks + mb) * K * MR, col, (pb / NR) * K * NR, K, acc);
            for (let i = 0; i < MR; i++) {
              const m = mb * MR + i;
              if (m >= M) break;
              const co = Math.floor(m / T);
              const row = (m - co * T) * inS + p0 + pb;
              const yb = co * S;
              for (let jj = 0; jj < cols; jj++) {
                const o = scatter[row + jj]!;
                if (o >= 0) yacc[yb + o] += acc[i * NR + jj]!;
              }
            }
          }
        }
      }
      const yOff = (n * g.group + grp) * g.coutG * S;
      if (act.kind === 'none') for (let i = 0; i < yacc.length; i++) y[yOff + i] = yacc[i]!;
      else for (let i = 0; i < yacc.length; i++) y[yOff + i] = applyActivation(act, yacc[i]!);
    }
  }
}
