import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { convGeometry, tapsAlwaysInside, type ConvGeometry } from '../common/conv-attributes.ts';
import { EIGHT_BIT_TYPES } from '../common/quant.ts';
import { product, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import { gpuMeta } from '../matmul-integer/webgpu.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuProgram } from '../webgpu/contract.ts';

/**
 * ConvInteger: Conv of 8-bit input and weights minus their zero points, exact in int32. Padding
 * reads as the input zero point (it contributes 0). The geometry comes from Conv's attribute
 * parser; the CPU and WGSL integer cores are shared with QLinearConv, which adds requantization.
 */

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

/**
 * Conv geometry for integer operands: common/conv-attributes.ts checks float types, so it sees
 * float stand-ins with the same shapes (the integer types are checked by the caller).
 */
export function intConvGeometry(x: TensorMeta, w: TensorMeta, ctx: KernelContext): { geo: ConvGeometry; dims: readonly number[] } {
  requireType(x, EIGHT_BIT_TYPES, ctx, 'x');
  requireType(w, EIGHT_BIT_TYPES, ctx, 'w');
  const { geo, out } = convGeometry([{ dtype: 'float32', dims: x.dims }, { dtype: 'float32', dims: w.dims }], ctx, false);
  return { geo, dims: out.dims };
}

/** A weight zero point (or scale) is one value or one per output channel. */
export function perChannel(meta: TensorMeta | undefined, channels: number, ctx: KernelContext, name: string): boolean {
  if (!meta) return false;
  const n = product(meta.dims);
  if (n === 1 && meta.dims.length <= 1) return false;
  if (meta.dims.length === 1 && n === channels) return true;
  return fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(meta.dims)}, expected a scalar or [${channels}]`);
}

export function requireScalar(meta: TensorMeta | undefined, ctx: KernelContext, name: string): void {
  if (meta && (product(meta.dims) !== 1 || meta.dims.length > 1)) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(meta.dims)}, expected a scalar`);
}

// ---------------------------------------------------------------------------------------------
// CPU core: per (batch, output channel), accumulate weight x shifted-input rows tap by tap over a
// table of input offsets (-1 in padding). Sums are exact in float64 and wrapped to int32 once.
// ---------------------------------------------------------------------------------------------

function tapTable(g: ConvGeometry): Int32Array {
  const s = g.inDims.length;
  const S = product(g.outDims);
  const T = product(g.kernel);
  const table = new Int32Array(T * S);
  const tap = new Array<number>(s).fill(0);
  const o = new Array<number>(s).fill(0);
  for (let t = 0; t < T; t++) {
    o.fill(0);
    for (let p = 0; p < S; p++) {
      let off = 0;
      for (let d = 0; d < s; d++) {
        const pos = o[d]! * g.strides[d]! - g.padBegin[d]! + tap[d]! * g.dilations[d]!;
        if (pos < 0 || pos >= g.inDims[d]!) {
          off = -1;
          break;
        }
        off = off * g.inDims[d]! + pos;
      }
      table[t * S + p] = off;
      for (let d = s - 1; d >= 0 && ++o[d]! === g.outDims[d]!; d--) o[d] = 0;
    }
    for (let d = s - 1; d >= 0 && ++tap[d]! === g.kernel[d]!; d--) tap[d] = 0;
  }
  return table;
}

/** int32 accumulators in output order [N, M, ...spatial]; `bias` (int32 per channel) is added. */
export function intConvCpu(x: AnyTensor, w: AnyTensor, g: ConvGeometry, xzp: number, wzp: Float64Array | undefined, bias?: Float64Array): Float64Array {
  const xs = toNumbers(x);
  if (xzp !== 0) for (let i = 0; i < xs.length; i++) xs[i]! -= xzp;
  const wv = toNumbers(w);
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const cout = g.coutG * g.group;
  const out = new Float64Array(g.batch * cout * S);
  if (out.length === 0) return out;
  const table = tapTable(g);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / g.coutG);
      const acc = out.subarray((n * cout + co) * S, (n * cout + co + 1) * S);
      const z = wzp ? (wzp.length === 1 ? wzp[0]! : wzp[co]!) : 0;
      for (let ci = 0; ci < g.cinG; ci++) {
        const xBase = (n * g.group * g.cinG + grp * g.cinG + ci) * inS;
        const wBase = (co * g.cinG + ci) * T;
        for (let t = 0; t < T; t++) {
          const wt = wv[wBase + t]! - z;
          if (wt === 0) continue;
          const row = t * S;
          for (let p = 0; p < S; p++) {
            const off = table[row + p]!;
            if (off >= 0) acc[p]! += wt * xs[xBase + off]!;
          }
        }
      }
      const b = bias ? bias[co]! : 0;
      for (let p = 0; p < S; p++) acc[p] = ((acc[p]! | 0) + b) | 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// WebGPU core: implicit GEMM as in conv.ts, in i32. Each invocation owns TM output channels of
// one group x TN output positions; taps outside, input channels inside, so the bounds checks of
// a (tap, position) are paid once per tap.
// ---------------------------------------------------------------------------------------------

export interface IntConvGpuSpec {
  readonly b: ShaderBuilder;
  readonly X: TensorVar;
  readonly W: TensorVar;
  readonly Y: TensorVar;
  readonly geo: ConvGeometry;
  /** WGSL i32 expressions: the input zero point, the weight zero point of output channel `co` */
  readonly xzp: string;
  readonly wzp: (co: string) => string;
  /** statements storing accumulator `acc` (i32) of output channel `co` at flat offset `o` */
  readonly epilogue: (acc: string, co: string, o: string) => string;
  readonly label: string;
}

const TN = 4;

export function intConvProgram(spec: IntConvGpuSpec): GpuProgram {
  const { b, X, W, Y, geo: g } = spec;
  const tm = Math.min(4, g.coutG);
  const s = g.inDims.length;
  const S = product(g.outDims);
  const N = g.batch * S;
  const T = product(g.kernel);
  const checks = !tapsAlwaysInside(g);
  const npb = Math.ceil(N / TN);
  const ncb = Math.ceil(g.coutG / tm);
  const total = N === 0 || g.coutG === 0 ? 0 : g.group * ncb * npb;
  const u = {
    total: b.uniform('total', 'u32', total),
    npb: b.uniform('npb', 'u32', npb),
    ncb: b.uniform('ncb', 'u32', ncb),
    n: b.uniform('npix', 'u32', N),
    cinG: b.uniform('cin_g', 'u32', g.cinG),
    coutG: b.uniform('cout_g', 'u32', g.coutG),
    taps: b.uniform('taps', 'u32', T),
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
  line(`let cin_g = ${u.cinG}; let cout_g = ${u.coutG}; let ntaps = ${u.taps};`);
  line(`let in_s = ${X.stride(1)};`);
  line(`let out_s = ${Y.stride(1)};`);
  line(`let xzp = ${spec.xzp};`);
  for (let d = 0; d < s; d++) line(`let in${d} = ${X.shape(2 + d)}; let k${d} = ${W.shape(2 + d)}; let st${d} = ${strides}(${d}u); let dl${d} = ${dil}(${d}u);`);
  for (let j = 0; j < TN; j++) {
    line(`let q${j} = min(pb * ${TN}u + ${j}u, ${u.n} - 1u);`);
    line(`let bt${j} = q${j} / out_s;`);
    line(`let sp${j} = q${j} % out_s;`);
    line(`var rest${j} = sp${j};`);
    for (let d = s - 1; d >= 0; d--) {
      line(`let org${j}_${d} = i32(rest${j} % ${Y.shape(2 + d)}) * st${d} - ${pads}(${d}u); rest${j} = rest${j} / ${Y.shape(2 + d)};`);
    }
    line(`let xb${j} = bt${j} * ${X.stride(0)} + grp * cin_g * in_s;`);
  }
  for (let i = 0; i < tm; i++) {
    line(`let ch${i} = grp * cout_g + min(co0 + ${i}u, cout_g - 1u);`);
    line(`let wr${i} = ch${i} * cin_g * ntaps;`);
    line(`let wz${i} = ${spec.wzp(`ch${i}`)};`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`var acc${i}_${j} = 0;`);
  line('for (var tap = 0u; tap < ntaps; tap++) {');
  line('  var trest = tap;');
  for (let d = s - 1; d >= 0; d--) line(`  let kk${d} = i32(trest % k${d}); trest = trest / k${d};`);
  for (let j = 0; j < TN; j++) {
    const conds: string[] = [];
    const offs: string[] = [];
    for (let d = 0; d < s; d++) {
      line(`  let p${j}_${d} = org${j}_${d} + kk${d} * dl${d};`);
      conds.push(`u32(p${j}_${d}) < in${d}`);
      offs.push(`u32(p${j}_${d}) * ${X.stride(2 + d)}`);
    }
    if (checks) {
      line(`  let ok${j} = ${conds.join(' && ')};`);
      line(`  var xo${j} = xb${j} + select(0u, ${offs.join(' + ')}, ok${j});`);
    } else line(`  var xo${j} = xb${j} + ${offs.join(' + ')};`);
  }
  line('  var wo = tap;');
  line('  for (var ci = 0u; ci < cin_g; ci++) {');
  for (let j = 0; j < TN; j++) {
    const v = `i32(${X.get(`xo${j}`)}) - xzp`;
    line(`    let x${j} = ${checks ? `select(0, ${v}, ok${j})` : v}; xo${j} += in_s;`);
  }
  for (let i = 0; i < tm; i++) line(`    let w${i} = i32(${W.get(`wr${i} + wo`)}) - wz${i};`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN; j++) line(`    acc${i}_${j} += w${i} * x${j};`);
  line('    wo += ntaps;');
  line('  }');
  line('}');
  // epilogue in a loop, not unrolled: requantization helpers are long and get inlined per call
  const list = (xs: string[]): string => xs.join(', ');
  line(`var accs = array<i32, ${tm * TN}>(${list(Array.from({ length: tm * TN }, (_, t) => `acc${Math.floor(t / TN)}_${t % TN}`))});`);
  line(`var chs = array<u32, ${tm}>(${list(Array.from({ length: tm }, (_, i) => `ch${i}`))});`);
  line(`var outs = array<u32, ${TN}>(${list(Array.from({ length: TN }, (_, j) => `bt${j} * ${Y.stride(0)} + sp${j}`))});`);
  line(`for (var t = 0u; t < ${tm * TN}u; t++) {`);
  line(`  let ti = t / ${TN}u; let tj = t % ${TN}u;`);
  line(`  if (co0 + ti >= cout_g || pb * ${TN}u + tj >= ${u.n}) { continue; }`);
  line('  let co = chs[ti];');
  line('  let o = outs[tj] + co * out_s;');
  L.push(spec.epilogue('accs[t]', 'co', 'o').split('\n').map((t) => `    ${t}`).join('\n'));
  line('}');
  return b.build({ label: spec.label, body: L.join('\n'), totalInvocations: total });
}

// ---------------------------------------------------------------------------------------------
// ConvInteger: x, w, x_zero_point (scalar), w_zero_point (scalar or per output channel)
// ---------------------------------------------------------------------------------------------

interface Plan {
  readonly geo: ConvGeometry;
  readonly out: TensorMeta;
}

function plan(inputs: readonly MaybeMeta[], ctx: KernelContext): Plan {
  const x = requireInput(inputs, 0, ctx);
  const w = requireInput(inputs, 1, ctx);
  const { geo, dims } = intConvGeometry(x, w, ctx);
  const [xz, wz] = [inputs[2], inputs[3]];
  if (xz && xz.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': x_zero_point type ${xz.dtype} differs from x type ${x.dtype}`);
  if (wz && wz.dtype !== w.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': w_zero_point type ${wz.dtype} differs from w type ${w.dtype}`);
  requireScalar(xz, ctx, 'x_zero_point');
  perChannel(wz, geo.coutG * geo.group, ctx, 'w_zero_point');
  return { geo, out: { dtype: 'int32', dims } };
}

export const kernels: readonly LegacyOpKernel[] = [
  {
    opType: 'ConvInteger',
    inferOutputs: (inputs, ctx) => [plan(inputs, ctx).out],
    cpu(inputs, ctx) {
      const [x, w, xz, wz] = inputs;
      const p = plan(inputs.map((t) => t && metaOf(t)), ctx);
      const acc = intConvCpu(x!, w!, p.geo, xz ? toNumbers(xz)[0]! : 0, wz && toNumbers(wz));
      return [new Tensor('int32', Int32Array.from(acc), p.out.dims)];
    },
    webgpu(inputs, outputs, ctx: GpuKernelContext) {
      const p = plan(inputs, ctx);
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', inputs[0]!, 0);
      const W = b.input('W', inputs[1]!, 1);
      const XZ = inputs[2] && b.input('XZ', gpuMeta(inputs[2]), 2);
      const wz = inputs[3];
      const WZ = wz && b.input('WZ', gpuMeta(wz), 3);
      const wzPer = perChannel(wz, p.geo.coutG * p.geo.group, ctx, 'w_zero_point');
      const Y = b.output('Y', outputs[0]!);
      const program = intConvProgram({
        b, X, W, Y, geo: p.geo,
        xzp: XZ ? `i32(${XZ.get('0u')})` : '0',
        wzp: (co) => (WZ ? `i32(${WZ.get(wzPer ? co : '0u')})` : '0'),
        epilogue: (acc, _co, o) => Y.set(o, acc),
        label: `ConvInteger:${ctx.node}`,
      });
      return { kind: 'programs', programs: [program] };
    },
  },
];
