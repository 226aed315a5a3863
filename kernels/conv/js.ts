/**
 * Conv and ConvTranspose on the CPU (V8, one thread): the 4x4 register-blocked GEMM reaches
 * 2.2-3.6 GFLOP/s (4x2, 3x4 and f64 panels measured no better beyond noise); ConvTranspose through col2im instead of gathering:
 * 4x4 stride 2 64 -> 32 channels at 56x56 0.42 -> 1.3 GFLOP/s (useful flops); depthwise as a
 * direct tap loop instead of a 1-row GEMM: ~3x.
 */
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { activationOf, applyActivation, type ActivationSpec } from '../common/activation.ts';
import { epilogueDims, epilogueOf, prologueOf, withEpilogue, withPrologue } from '../fused-elementwise/epilogue.ts';
import { convGeometry, type ConvGeometry } from '../common/conv-attributes.ts';
import { product } from '../common/shape.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeTensor, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { CHUNK_FLOATS, colScratchOf, floatData, microKernel, MR, NR, packCols, type FloatArray } from './js-gemm.ts';
import { transposeCpu } from './js-transpose.ts';

// ---------------------------------------------------------------------------------------------
// CPU: im2col into a reused panel buffer + a 4x4 register-blocked GEMM: Y[co][n] = sum_k
// W'[co][k] * col[k][n] with k = (ci, tap). ConvTranspose uses the same GEMM over input positions
// followed by col2im (transposeCpu); one input channel per group (depthwise) a direct loop.
// ---------------------------------------------------------------------------------------------

/**
 * For each tap and each output position (flat over the output spatial dims), the flat input
 * spatial offset it reads, or -1 where it falls in padding (Conv) or between strides (ConvTranspose).
 */
function tapTable(g: ConvGeometry): Int32Array {
  const s = g.inDims.length;
  const S = product(g.outDims);
  const T = product(g.kernel);
  // per axis: [tap j][output o] -> input index or -1
  const axis = g.inDims.map((inD, d) => {
    const k = g.kernel[d]!;
    const out = g.outDims[d]!;
    const st = g.strides[d]!;
    const dil = g.dilations[d]!;
    const pad = g.padBegin[d]!;
    const t = new Int32Array(k * out);
    for (let j = 0; j < k; j++) {
      for (let o = 0; o < out; o++) {
        let pos: number;
        if (g.transpose) {
          const q = o + pad - j * dil;
          pos = q >= 0 && q % st === 0 ? q / st : -1;
        } else pos = o * st - pad + j * dil;
        t[j * out + o] = pos >= 0 && pos < inD ? pos : -1;
      }
    }
    return t;
  });
  const inStrides = new Array<number>(s);
  for (let d = s - 1, acc = 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= g.inDims[d]!;
  }
  const table = new Int32Array(T * S);
  const j = new Array<number>(s).fill(0);
  const o = new Array<number>(s).fill(0);
  for (let tap = 0; tap < T; tap++) {
    o.fill(0);
    for (let n = 0; n < S; n++) {
      let off = 0;
      for (let d = 0; d < s; d++) {
        const p = axis[d]![j[d]! * g.outDims[d]! + o[d]!]!;
        if (p < 0) {
          off = -1;
          break;
        }
        off += p * inStrides[d]!;
      }
      table[tap * S + n] = off;
      for (let d = s - 1; d >= 0 && ++o[d]! === g.outDims[d]!; d--) o[d] = 0;
    }
    for (let d = s - 1; d >= 0 && ++j[d]! === g.kernel[d]!; d--) j[d] = 0;
  }
  return table;
}

/** Weights as [group][co block][k][MR] (k = ci * taps + tap), zero rows past the group's channels. */
function packWeights(w: FloatArray, g: ConvGeometry): Float32Array {
  const T = product(g.kernel);
  const K = g.cinG * T;
  const blocks = Math.ceil(g.coutG / MR);
  const out = new Float32Array(g.group * blocks * K * MR);
  for (let grp = 0; grp < g.group; grp++) {
    for (let co = 0; co < g.coutG; co++) {
      const dst = ((grp * blocks + Math.floor(co / MR)) * K) * MR + (co % MR);
      for (let ci = 0; ci < g.cinG; ci++) {
        // Conv W: [Cout][Cin/g][taps]; ConvTranspose W: [Cin][Cout/g][taps]
        const src = g.transpose ? ((grp * g.cinG + ci) * g.coutG + co) * T : ((grp * g.coutG + co) * g.cinG + ci) * T;
        for (let t = 0; t < T; t++) out[dst + (ci * T + t) * MR] = w[src + t]!;
      }
    }
  }
  return out;
}

export function convCpu(inputs: readonly MaybeTensor[], ctx: KernelContext, transpose: boolean): AnyTensor[] {
  // a fake quantization of X the WebGPU fusion pass folded into the load (Conv only)
  const xt = transpose ? inputs[0]! : withPrologue(prologueOf(ctx.attrs, ctx.node), inputs[0]!, ctx.node);
  const wt = inputs[1]!;
  const bt = inputs[2];
  const { geo: g, out } = convGeometry([metaOf(xt), metaOf(wt), bt && metaOf(bt)], ctx, transpose);
  const act = activationOf(ctx.attrs);
  const epi = transpose ? undefined : epilogueOf(ctx.attrs, ctx.node); // Conv only (the WebGPU fusion pass)
  // with the epilogue's extra tensors the output may be their broadcast shape (epilogue.ts)
  const done = (y: FloatArray): AnyTensor => {
    if (!epi) return finish(out, y);
    const dims = epilogueDims(out.dims, inputs.map((t) => t && metaOf(t)), ctx);
    return finish({ ...out, dims }, withEpilogue(epi, y, out.dims, inputs));
  };
  const x = floatData(xt);
  const bias = bt ? floatData(bt) : undefined;
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const K = g.cinG * T;
  const cout = g.coutG * g.group;
  const y = out.dtype === 'float32' ? new Float32Array(g.batch * cout * S) : new Float64Array(g.batch * cout * S);
  if (y.length === 0) return [done(y)];
  if (g.transpose && g.cinG > 1) {
    transposeCpu(x, floatData(wt), bias, g, act, y);
    return [done(y)];
  }
  const taps = tapTable(g);
  if (g.cinG === 1) {
    depthwiseCpu(x, floatData(wt), bias, g, taps, act, y);
    return [done(y)];
  }
  const wp = packWeights(floatData(wt), g);
  const blocks = Math.ceil(g.coutG / MR);
  const chunk = Math.max(NR, Math.floor(CHUNK_FLOATS / Math.max(1, K) / NR) * NR);
  const need = Math.min(chunk, Math.ceil(S / NR) * NR) * K;
  const col = colScratchOf(need);
  const acc = new Float64Array(MR * NR);
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.group; grp++) {
      const xOff = (n * g.group + grp) * g.cinG * inS;
      const yOff = (n * g.group + grp) * g.coutG * S;
      for (let p0 = 0; p0 < S; p0 += chunk) {
        const pn = Math.min(chunk, S - p0);
        packCols(x, xOff, inS, taps, S, T, g.cinG, p0, pn, col);
        for (let pb = 0; pb < pn; pb += NR) {
          const cBase = (pb / NR) * K * NR;
          for (let cb = 0; cb < blocks; cb++) {
            microKernel(wp, (grp * blocks + cb) * K * MR, col, cBase, K, acc);
            store(acc, y, yOff, S, p0 + pb, cb * MR, g.coutG, grp * g.coutG, bias, act);
          }
        }
      }
    }
  }
  return [done(y)];
}

/**
 * One input channel per group (depthwise): a GEMM would be 1 x taps x positions, all packing and
 * no reuse, so accumulate tap by tap along the output row instead.
 */
function depthwiseCpu(x: FloatArray, w: FloatArray, bias: FloatArray | undefined, g: ConvGeometry, taps: Int32Array, act: ActivationSpec, y: FloatArray): void {
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const cout = g.group * g.coutG;
  const acc = new Float64Array(S);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < cout; co++) {
      const xOff = (n * g.group + Math.floor(co / g.coutG)) * inS;
      // Conv W is [Cout][1][taps] and ConvTranspose W [Cin = groups][Cout/group][taps]: co * T both
      const wOff = co * T;
      acc.fill(bias ? bias[co]! : 0);
      for (let t = 0; t < T; t++) {
        const wv = w[wOff + t]!;
        const row = t * S;
        for (let p = 0; p < S; p++) {
          const off = taps[row + p]!;
          if (off >= 0) acc[p] += wv * x[xOff + off]!;
        }
      }
      const yOff = (n * cout + co) * S;
      if (act.kind === 'none') for (let p = 0; p < S; p++) y[yOff + p] = acc[p]!;
      else for (let p = 0; p < S; p++) y[yOff + p] = applyActivation(act, acc[p]!);
    }
  }
}


function finish(out: TensorMeta, y: FloatArray): AnyTensor {
  if (out.dtype === 'float32') return new Tensor('float32', y as Float32Array, out.dims);
  return fromNumbers(out.dtype, out.dims, y);
}

function store(acc: Float64Array, y: FloatArray, yOff: number, S: number, p: number, co0: number, coutG: number, biasOff: number, bias: FloatArray | undefined, act: ActivationSpec): void {
  const rows = Math.min(MR, coutG - co0);
  const cols = Math.min(NR, S - p);
  for (let i = 0; i < rows; i++) {
    const b = bias ? bias[biasOff + co0 + i]! : 0;
    const dst = yOff + (co0 + i) * S + p;
    for (let j = 0; j < cols; j++) {
      const v = acc[i * NR + j]! + b;
      y[dst + j] = act.kind === 'none' ? v : applyActivation(act, v);
    }
  }
}

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Conv')]: (inputs, ctx) => convCpu(inputs, ctx, false) };
