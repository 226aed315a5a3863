import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuCaps, GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import * as A from './attention-op.ts';
import { bsdLayout } from './core.ts';
import { combineProgram, decodeProgram, decodeSplits, flashProgram, gatherProgram, type FlashSpec, type Src } from './flash-wgsl.ts';
import * as G from './group-query-op.ts';
import * as M from './multi-head-op.ts';
import * as O from './onnx-attention-op.ts';

// ---------------------------------------------------------------------------------------------
// WebGPU: each op gathers Q, K and V into [B, heads, T, H] buffers (K and V are present_key and
// present_value when the node outputs them), then runs the tiled flash kernel, or for a single query
// row the split-KV decode kernel and its combine pass (flash-wgsl.ts). f32 storage and accumulation.
// ---------------------------------------------------------------------------------------------

class Resources {
  readonly temps: TensorMeta[] = [];
  readonly programs: GpuProgram[] = [];
  constructor(private readonly inputs: readonly MaybeMeta[], private readonly outputs: readonly TensorMeta[]) {}
  input(i: number): Src {
    return { ref: { kind: 'input', index: i }, meta: this.inputs[i]! };
  }
  maybeInput(i: number): Src | undefined {
    return this.inputs[i] ? this.input(i) : undefined;
  }
  /** output slot i when the node has it, else a scratch tensor of that shape */
  outputOr(i: number, dims: readonly number[]): Src {
    return this.outputs[i] ? { ref: { kind: 'output', index: i }, meta: this.outputs[i] } : this.temp(dims);
  }
  temp(dims: readonly number[]): Src {
    const meta: TensorMeta = { dtype: 'float32', dims };
    return { ref: { kind: 'temp', index: this.temps.push(meta) - 1 }, meta };
  }
  attend(f: FlashSpec, caps: GpuCaps): void {
    if (f.S === 1) {
      const partials = this.temp([f.B * f.N * decodeSplits(f.T) * (f.Hv + 2)]);
      this.programs.push(decodeProgram(f, partials, caps), combineProgram(f, partials, caps));
    } else this.programs.push(flashProgram(f, caps));
  }
}

/** Private arrays of the flash kernel hold a head: keep them small enough for any adapter. */
const MAX_HEAD = 256;

const multiHead: WebGpuKernel = (inputs, outputs, ctx: GpuKernelContext) => {
  const p = M.mhaPlan(inputs, ctx);
  const { B, S, N, L, P, T, H, Hv } = p;
  if (H > MAX_HEAD || Hv > MAX_HEAD) return undefined;
  const r = new Resources(inputs, outputs);
  const query = r.input(M.Q);
  const kSrc = p.form === 'packed-qkv' ? query : r.input(M.K);
  const vSrc = p.form === 'packed-qkv' ? query : p.form === 'packed-kv' ? kSrc : r.input(M.V);
  const bias = r.maybeInput(M.BIAS);
  const label = `MultiHeadAttention:${ctx.node}`;
  const mask = { contrib: { kind: p.mask, src: r.maybeInput(M.MASK), filter: p.filter, causal: p.causal, megatronSize: 0 }, attnBias: r.maybeInput(M.ATTN_BIAS), past: P };
  const out = { ref: { kind: 'output', index: 0 }, meta: outputs[0]! } as const;
  if (S > 1 && !bias && P === 0 && !outputs[1] && !outputs[2] && p.form === 'bsd') {
    // nothing to gather (no bias, no past, no present outputs): the flash kernel reads Q, K and V
    // where they are (the form a recognized decomposed attention has: runtime/graph/passes/recognize-attention.ts)
    r.programs.push(flashProgram({
      label, B, N, Nkv: N, S, T, Tbuf: T, H, Hv, q: query, k: kSrc, kBase: 0, v: vSrc, vBase: 0,
      direct: { q: p.q, k: p.k, v: p.v }, out, scale: p.scale, softcap: 0, smooth: false, mask,
    }, ctx.caps));
    return { kind: 'programs', programs: r.programs, temps: r.temps };
  }
  const kvBias = p.form !== 'bnsh' ? bias : undefined;
  const q = r.temp([B, N, S, H]);
  const k = r.outputOr(1, [B, N, T, H]);
  const v = r.outputOr(2, [B, N, T, Hv]);
  const none = { kind: 'const', value: 0 } as const;
  const past = { kind: 'const', value: P } as const;
  r.programs.push(
    gatherProgram({ label: `${label}:q`, dst: q, dstBase: 0, B, heads: N, Tbuf: S, hd: H, src: query, layout: p.q, L: S, afterPast: false, pastLen: none, bias: bias && { src: bias, at: 0 } }, ctx.caps),
    gatherProgram({ label: `${label}:k`, dst: k, dstBase: 0, B, heads: N, Tbuf: T, hd: H, src: kSrc, layout: p.k, L, afterPast: true, pastLen: past, past: inputs[M.PAST_K] && { src: r.input(M.PAST_K), rowsPerHead: P }, bias: kvBias && { src: kvBias, at: N * H } }, ctx.caps),
    gatherProgram({ label: `${label}:v`, dst: v, dstBase: 0, B, heads: N, Tbuf: T, hd: Hv, src: vSrc, layout: p.v, L, afterPast: true, pastLen: past, past: inputs[M.PAST_V] && { src: r.input(M.PAST_V), rowsPerHead: P }, bias: kvBias && { src: kvBias, at: 2 * N * H } }, ctx.caps),
  );
  r.attend({ label, B, N, Nkv: N, S, T, Tbuf: T, H, Hv, q, k, kBase: 0, v, vBase: 0, out, scale: p.scale, softcap: 0, smooth: false, mask }, ctx.caps);
  return { kind: 'programs', programs: r.programs, temps: r.temps };
};

/** qkv[r, j] = bias[j] + sum_i x[r, i] w[i, j]: one invocation per output element. */
function projectionProgram(p: A.AttentionPlan, r: Resources, dst: Src, caps: GpuCaps, label: string): GpuProgram {
  const b = new ShaderBuilder(caps);
  const X = b.input('X', r.input(A.X).meta, A.X);
  const W = b.input('W', r.input(A.W).meta, A.W);
  const bias = r.maybeInput(A.BIAS);
  const BI = bias && b.input('BI', bias.meta, A.BIAS);
  const D = b.temp('D', dst.meta, dst.ref.index);
  const total = p.B * p.S * p.Dtot;
  const body = [
    `  if (global_idx >= ${total}u) { return; }`,
    `  let j = global_idx % ${p.Dtot}u;`,
    `  let row = global_idx / ${p.Dtot}u;`,
    `  var acc = ${BI ? BI.get('j') : '0.0'};`,
    `  for (var i = 0u; i < ${p.Din}u; i++) { acc += ${X.get(`row * ${p.Din}u + i`)} * ${W.get(`i * ${p.Dtot}u + j`)}; }`,
    `  ${D.set('global_idx', 'acc')}`,
  ].join('\n');
  return b.build({ label: `${label}:qkv`, body, totalInvocations: total, workgroupSize: 64 });
}

const attention: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = A.attentionPlan(inputs, ctx);
  const { B, S, N, P, T, H, Hv } = p;
  if (H > MAX_HEAD || Hv > MAX_HEAD) return undefined;
  const r = new Resources(inputs, outputs);
  const label = `Attention:${ctx.node}`;
  const qkv = r.temp([B * S, p.Dtot]);
  r.programs.push(projectionProgram(p, r, qkv, ctx.caps, label));
  const q = r.temp([B, N, S, H]);
  const half = B * N * T * H;
  const present = outputs[1] ? r.outputOr(1, [2, B, N, T, H]) : undefined;
  const k = present ?? r.temp([B, N, T, H]);
  const v = present ?? r.temp([B, N, T, Hv]);
  const vBase = present ? half : 0;
  const none = { kind: 'const', value: 0 } as const;
  const past = { kind: 'const', value: P } as const;
  const pastIn = r.maybeInput(A.PAST);
  r.programs.push(
    gatherProgram({ label: `${label}:q`, dst: q, dstBase: 0, B, heads: N, Tbuf: S, hd: H, src: qkv, layout: bsdLayout(S, p.Dtot, H, 0), L: S, afterPast: false, pastLen: none }, ctx.caps),
    gatherProgram({ label: `${label}:k`, dst: k, dstBase: 0, B, heads: N, Tbuf: T, hd: H, src: qkv, layout: bsdLayout(S, p.Dtot, H, p.Dq), L: S, afterPast: true, pastLen: past, past: pastIn && { src: pastIn, rowsPerHead: P } }, ctx.caps),
    gatherProgram({ label: `${label}:v`, dst: v, dstBase: vBase, B, heads: N, Tbuf: T, hd: Hv, src: qkv, layout: bsdLayout(S, p.Dtot, Hv, 2 * p.Dq), L: S, afterPast: true, pastLen: past, past: pastIn && { src: pastIn, rowsPerHead: P, base: B * N * P * H } }, ctx.caps),
  );
  r.attend({
    label, B, N, Nkv: N, S, T, Tbuf: T, H, Hv, q, k, kBase: 0, v, vBase,
    out: { ref: { kind: 'output', index: 0 }, meta: outputs[0]! },
    scale: p.scale, softcap: 0, smooth: false,
    mask: { contrib: { kind: p.mask, src: r.maybeInput(A.MASK), filter: p.filter, causal: p.causal, megatronSize: p.megatronSize }, attnBias: r.maybeInput(A.ATTN_BIAS), past: P },
  }, ctx.caps);
  return { kind: 'programs', programs: r.programs, temps: r.temps };
};

const groupQuery: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = G.gqaPlan(inputs, ctx);
  const { B, S, N, Nkv, H, Tp } = p;
  // head_sink runs on the CPU
  if (H > MAX_HEAD || inputs[G.SINK]) return undefined;
  const r = new Resources(inputs, outputs);
  const label = `GroupQueryAttention:${ctx.node}`;
  const query = r.input(G.Q);
  const kSrc = p.packed ? query : r.input(G.K);
  const vSrc = p.packed ? query : r.input(G.V);
  const q = r.temp([B, N, S, H]);
  const k = r.outputOr(1, [B, Nkv, Tp, H]);
  const v = r.outputOr(2, [B, Nkv, Tp, H]);
  const pastLen = { kind: 'seqlens', src: r.input(G.SEQLENS), S, prompt: S === p.total } as const;
  const rotary = p.rotary ? { cos: r.input(G.COS), sin: r.input(G.SIN), dim: p.rotaryDim, interleaved: p.interleaved, positionIds: r.maybeInput(G.POS_IDS) } : undefined;
  const pk = r.maybeInput(G.PAST_K), pv = r.maybeInput(G.PAST_V);
  r.programs.push(
    gatherProgram({ label: `${label}:q`, dst: q, dstBase: 0, B, heads: N, Tbuf: S, hd: H, src: query, layout: p.q, L: S, afterPast: false, pastLen, rotary }, ctx.caps),
    gatherProgram({ label: `${label}:k`, dst: k, dstBase: 0, B, heads: Nkv, Tbuf: Tp, hd: H, src: kSrc, layout: p.k, L: S, afterPast: true, pastLen, past: pk && { src: pk, rowsPerHead: p.Pbuf }, rotary }, ctx.caps),
    gatherProgram({ label: `${label}:v`, dst: v, dstBase: 0, B, heads: Nkv, Tbuf: Tp, hd: H, src: vSrc, layout: p.v, L: S, afterPast: true, pastLen, past: pv && { src: pv, rowsPerHead: p.Pbuf } }, ctx.caps),
  );
  r.attend({
    label, B, N, Nkv, S, T: Tp, Tbuf: Tp, H, Hv: H, q, k, kBase: 0, v, vBase: 0,
    out: { ref: { kind: 'output', index: 0 }, meta: outputs[0]! },
    scale: p.scale, softcap: p.softcap, smooth: p.smooth,
    mask: { gqa: { pastLen, window: p.window }, attnBias: r.maybeInput(G.ATTN_BIAS), past: 0 },
  }, ctx.caps);
  return { kind: 'programs', programs: r.programs, temps: r.temps };
};

const onnxAttention: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = O.onnxAttentionPlan(inputs, ctx);
  const { B, S, L, N, Nkv, P, T, H, Hv } = p;
  // qk_matmul_output is an S x T matrix by definition: the CPU computes it
  if (H > MAX_HEAD || Hv > MAX_HEAD || p.outputs.length > 3) return undefined;
  const r = new Resources(inputs, outputs);
  const label = `Attention:${ctx.node}`;
  const q = r.temp([B, N, S, H]);
  const k = r.outputOr(1, [B, Nkv, T, H]);
  const v = r.outputOr(2, [B, Nkv, T, Hv]);
  const none = { kind: 'const', value: 0 } as const;
  const past = { kind: 'const', value: P } as const;
  const pk = r.maybeInput(O.PAST_K), pv = r.maybeInput(O.PAST_V);
  r.programs.push(
    gatherProgram({ label: `${label}:q`, dst: q, dstBase: 0, B, heads: N, Tbuf: S, hd: H, src: r.input(O.Q), layout: p.q, L: S, afterPast: false, pastLen: none }, ctx.caps),
    gatherProgram({ label: `${label}:k`, dst: k, dstBase: 0, B, heads: Nkv, Tbuf: T, hd: H, src: r.input(O.K), layout: p.k, L, afterPast: true, pastLen: past, past: pk && { src: pk, rowsPerHead: P } }, ctx.caps),
    gatherProgram({ label: `${label}:v`, dst: v, dstBase: 0, B, heads: Nkv, Tbuf: T, hd: Hv, src: r.input(O.V), layout: p.v, L, afterPast: true, pastLen: past, past: pv && { src: pv, rowsPerHead: P } }, ctx.caps),
  );
  r.attend({
    label, B, N, Nkv, S, T, Tbuf: T, H, Hv, q, k, kBase: 0, v, vBase: 0,
    out: { ref: { kind: 'output', index: 0 }, meta: outputs[0]! },
    outBnsh: p.rank === 4,
    scale: p.scale, softcap: p.softcap, smooth: false,
    mask: { onnx: { mask: r.maybeInput(O.MASK), maskDims: p.maskDims, bool: p.maskBool, causal: p.causal, nonpad: r.maybeInput(O.NONPAD) }, past: P },
  }, ctx.caps);
  return { kind: 'programs', programs: r.programs, temps: r.temps };
};

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'Attention')]: onnxAttention,
  [opKey('com.microsoft', 'MultiHeadAttention')]: multiHead,
  [opKey('com.microsoft', 'Attention')]: attention,
  [opKey('com.microsoft', 'GroupQueryAttention')]: groupQuery,
};
