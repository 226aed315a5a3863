import { Tensor, type AnyTensor } from '../runtime/api/tensor.ts';
import { activationOf, applyActivation, wgslActivation, type ActivationSpec } from './common/activation.ts';
import { convGeometry, tapsAlwaysInside, type ConvGeometry } from './common/conv-attributes.ts';
import { product } from './common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from './common/values.ts';
import { ShaderBuilder } from './shader/builder.ts';
import type { GpuKernelContext, GpuLowering, KernelContext, MaybeMeta, MaybeTensor, OpKernel, TensorMeta } from './types.ts';

// ---------------------------------------------------------------------------------------------
// CPU: im2col into a reused panel buffer + a 4x4 register-blocked GEMM. Conv and ConvTranspose
// share it: both are Y[co][n] = sum_k W'[co][k] * col[k][n] with k = (ci, tap); only which input
// element a (tap, output position) reads differs (see tapTable).
// ---------------------------------------------------------------------------------------------

type FloatArray = Float32Array | Float64Array;

const MR = 4; // output channels per register block
const NR = 4; // output positions per register block
/** pixels per im2col chunk are chosen so a chunk's panels stay near this many floats (L2-sized) */
const CHUNK_FLOATS = 1 << 16;

let colScratch = new Float32Array(0);

function floatData(t: AnyTensor): FloatArray {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float64') return t.data as Float64Array;
  return toNumbers(t);
}

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
  const xt = inputs[0]!;
  const wt = inputs[1]!;
  const bt = inputs[2];
  const { geo: g, out } = convGeometry([metaOf(xt), metaOf(wt), bt && metaOf(bt)], ctx, transpose);
  const act = activationOf(ctx.attrs);
  const x = floatData(xt);
  const bias = bt ? floatData(bt) : undefined;
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const K = g.cinG * T;
  const cout = g.coutG * g.group;
  const y = out.dtype === 'float32' ? new Float32Array(g.batch * cout * S) : new Float64Array(g.batch * cout * S);
  if (y.length === 0) return [finish(out, y)];
  const taps = tapTable(g);
  const wp = packWeights(floatData(wt), g);
  const blocks = Math.ceil(g.coutG / MR);
  const chunk = Math.max(NR, Math.floor(CHUNK_FLOATS / Math.max(1, K) / NR) * NR);
  const need = Math.min(chunk, Math.ceil(S / NR) * NR) * K;
  if (colScratch.length < need) colScratch = new Float32Array(need);
  const col = colScratch;
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
  return [finish(out, y)];
}

function finish(out: TensorMeta, y: FloatArray): AnyTensor {
  if (out.dtype === 'float32') return new Tensor('float32', y as Float32Array, out.dims);
  return fromNumbers(out.dtype, out.dims, y);
}

/** im2col of output positions [p0, p0+pn) into panels [pos block][k][NR]; padding reads as 0. */
function packCols(x: FloatArray, xOff: number, inS: number, taps: Int32Array, S: number, T: number, cinG: number, p0: number, pn: number, col: Float32Array): void {
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
function microKernel(wp: Float32Array, wOff: number, col: Float32Array, cOff: number, K: number, acc: Float64Array): void {
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

// ---------------------------------------------------------------------------------------------
// WebGPU: implicit GEMM. Each invocation computes a TM x TN register tile (TM output channels of
// one group x TN output positions), looping taps outside and input channels inside so the
// bounds/stride checks of a (tap, position) are paid once per tap, not once per multiply-add.
// ---------------------------------------------------------------------------------------------

interface TileConfig {
  readonly tm: number;
  readonly tn: number;
  readonly wg: number;
}

function tileFor(g: ConvGeometry): TileConfig {
  if (g.coutG < 4) return { tm: g.coutG, tn: 4, wg: 64 };
  return { tm: 4, tn: 4, wg: 64 };
}

export function convWebgpu(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext, transpose: boolean): GpuLowering | undefined {
  const { geo: g } = convGeometry(inputs, ctx, transpose);
  const out = outputs[0]!;
  const act = activationOf(ctx.attrs);
  const op = transpose ? 'ConvTranspose' : 'Conv';
  const { tm, tn, wg } = tileFor(g);
  const s = g.inDims.length;
  const S = product(g.outDims);
  const N = g.batch * S;
  const T = product(g.kernel);
  const checks = !tapsAlwaysInside(g);

  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const W = b.input('W', inputs[1]!, 1);
  const B = g.hasBias ? b.input('B', inputs[2]!, 2) : undefined;
  const Y = b.output('Y', out);
  const npb = Math.ceil(N / tn);
  const ncb = Math.ceil(g.coutG / tm);
  const total = N === 0 ? 0 : g.group * ncb * npb;
  const u = {
    total: b.uniform('total', 'u32', total),
    npb: b.uniform('npb', 'u32', npb),
    ncb: b.uniform('ncb', 'u32', ncb),
    n: b.uniform('npix', 'u32', N),
    cinG: b.uniform('cin_g', 'u32', g.cinG),
    coutG: b.uniform('cout_g', 'u32', g.coutG),
    taps: b.uniform('taps', 'u32', T),
    // weight offset = g * wG + co * wCo + ci * wCi + tap
    wCo: b.uniform('w_co', 'u32', transpose ? T : g.cinG * T),
    wCi: b.uniform('w_ci', 'u32', transpose ? g.coutG * T : T),
  };
  const strides = b.uniformArray('conv_strides', 'i32', g.strides);
  const dil = b.uniformArray('conv_dil', 'i32', g.dilations);
  const pads = b.uniformArray('conv_pads', 'i32', g.padBegin);
  const L: string[] = [];
  const line = (t: string): void => void L.push(`  ${t}`);
  line(`if (global_idx >= ${u.total}) { return; }`);
  line(`let pb = global_idx % ${u.npb};`);
  line(`let grp = (global_idx / ${u.npb}) / ${u.ncb};`);
  line(`let co0 = ((global_idx / ${u.npb}) % ${u.ncb}) * ${tm}u;`);
  line(`let cin_g = ${u.cinG}; let cout_g = ${u.coutG}; let ntaps = ${u.taps}; let w_ci = ${u.wCi};`);
  line(`let in_s = ${X.stride(1)};`);
  line(`let out_s = ${Y.stride(1)};`);
  for (let d = 0; d < s; d++) {
    line(`let in${d} = ${X.shape(2 + d)}; let k${d} = ${W.shape(2 + d)}; let st${d} = ${strides}(${d}u); let ust${d} = u32(st${d}); let dl${d} = ${dil}(${d}u);`);
  }
  // per output position j: batch, spatial position, input base offset, per-axis origin
  for (let j = 0; j < tn; j++) {
    line(`let n${j} = min(pb * ${tn}u + ${j}u, ${u.n} - 1u);`);
    line(`let bt${j} = n${j} / out_s;`);
    line(`let sp${j} = n${j} % out_s;`);
    line(`var rest${j} = sp${j};`);
    for (let d = s - 1; d >= 0; d--) {
      line(`let o${j}_${d} = i32(rest${j} % ${Y.shape(2 + d)}); rest${j} = rest${j} / ${Y.shape(2 + d)};`);
      line(transpose ? `let org${j}_${d} = o${j}_${d} + ${pads}(${d}u);` : `let org${j}_${d} = o${j}_${d} * st${d} - ${pads}(${d}u);`);
    }
    line(`let xb${j} = bt${j} * ${X.stride(0)} + grp * cin_g * in_s;`);
  }
  for (let i = 0; i < tm; i++) line(`let wr${i} = grp * cout_g * cin_g * ntaps + min(co0 + ${i}u, cout_g - 1u) * ${u.wCo};`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) line(`var acc${i}_${j} = 0.0;`);
  line('for (var tap = 0u; tap < ntaps; tap++) {');
  line('  var trest = tap;');
  for (let d = s - 1; d >= 0; d--) line(`  let kk${d} = i32(trest % k${d}); trest = trest / k${d};`);
  for (let j = 0; j < tn; j++) {
    const conds: string[] = [];
    const offs: string[] = [];
    for (let d = 0; d < s; d++) {
      if (transpose) {
        // a negative q wraps to a huge u32 whose quotient is never < in (strides * in < 2^32)
        line(`  let q${j}_${d} = u32(org${j}_${d} - kk${d} * dl${d});`);
        line(`  let p${j}_${d} = q${j}_${d} / ust${d};`);
        conds.push(`(q${j}_${d} == p${j}_${d} * ust${d})`, `(p${j}_${d} < in${d})`);
      } else {
        line(`  let p${j}_${d} = u32(org${j}_${d} + kk${d} * dl${d});`);
        conds.push(`(p${j}_${d} < in${d})`);
      }
      offs.push(`p${j}_${d} * ${X.stride(2 + d)}`);
    }
    if (checks) {
      // non-short-circuit '&': '&&' chains become branches that SwiftShader compiles very slowly
      line(`  let ok${j} = ${conds.join(' & ')};`);
      line(`  var xo${j} = xb${j} + select(0u, ${offs.join(' + ')}, ok${j});`);
    } else line(`  var xo${j} = xb${j} + ${offs.join(' + ')};`);
  }
  line('  var wo = tap;');
  line('  for (var ci = 0u; ci < cin_g; ci++) {');
  for (let j = 0; j < tn; j++) line(`    let x${j} = ${checks ? `select(0.0, f32(${X.get(`xo${j}`)}), ok${j})` : `f32(${X.get(`xo${j}`)})`}; xo${j} += in_s;`);
  for (let i = 0; i < tm; i++) line(`    let w${i} = f32(${W.get(`wr${i} + wo`)});`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) line(`    acc${i}_${j} += w${i} * x${j};`);
  line('    wo += w_ci;');
  line('  }');
  line('}');
  // the activation is a helper so its parameter uniforms are declared once
  b.helper('conv_act', `fn conv_act(v: f32) -> f32 { return ${wgslActivation(b, act, 'v')}; }`);
  for (let i = 0; i < tm; i++) {
    line(`if (co0 + ${i}u < cout_g) {`);
    line(`  let co = grp * cout_g + co0 + ${i}u;`);
    line(`  let bias = ${B ? `f32(${B.get('co')})` : '0.0'};`);
    for (let j = 0; j < tn; j++) {
      line(`  if (pb * ${tn}u + ${j}u < ${u.n}) { ${Y.set(`bt${j} * ${Y.stride(0)} + co * out_s + sp${j}`, `conv_act(acc${i}_${j} + bias)`)} }`);
    }
    line('}');
  }
  const program = b.build({ label: `${op}:${ctx.node}`, body: L.join('\n'), totalInvocations: total, workgroupSize: wg });
  return { kind: 'programs', programs: [program] };
}

function makeKernel(transpose: boolean): OpKernel {
  return {
    opType: transpose ? 'ConvTranspose' : 'Conv',
    inferOutputs: (inputs, ctx) => [convGeometry(inputs, ctx, transpose).out],
    cpu: (inputs, ctx) => convCpu(inputs, ctx, transpose),
    webgpu: (inputs, outputs, ctx) => convWebgpu(inputs, outputs, ctx, transpose),
  };
}

export const convKernel = makeKernel;
export const kernels: readonly OpKernel[] = [makeKernel(false)];
