import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { attendReference, bsdLayout, bnshToBsd, gatherHeads, type Alloc, type Floats, type HeadLayout, type Problem } from './core.ts';
import { finishOutputs } from './multi-head-op.ts';

/**
 * com.microsoft GroupQueryAttention (Llama/Mistral/Phi exports), following onnxruntime's CPU
 * kernel: query [B, S, N * H] (or packed [B, S, (N + 2 Nkv) H] with key and value absent), key and
 * value [B, S, Nkv * H], past_key/past_value [B, Nkv, Pbuf, H], seqlens_k (int32 [B]: total length
 * - 1 per batch), total_sequence_length (int32 scalar, read at plan time: it sizes present),
 * cos_cache/sin_cache [max_pos, rotary_dim / 2] when do_rotary, position_ids, attention_bias.
 * Per batch the past holds seqlens_k[b] + 1 - S valid rows (0 on the first prompt, S == total);
 * present [B, Nkv, max(total, Pbuf), H] holds them, then the S new rows, zeros after. Query row s
 * sees keys [lo, past + s + 1) where lo = past + s - local_window_size when the window is set;
 * masked keys leave the softmax. Scores: scale * q.k, softcap, + attention_bias, (smooth) softmax.
 */
export const Q = 0, K = 1, V = 2, PAST_K = 3, PAST_V = 4, SEQLENS = 5, TOTAL = 6, COS = 7, SIN = 8, POS_IDS = 9, ATTN_BIAS = 10, SINK = 11;

export interface GqaPlan {
  readonly B: number;
  readonly S: number;
  readonly N: number;
  readonly Nkv: number;
  readonly H: number;
  readonly Pbuf: number;
  readonly total: number;
  readonly Tp: number;
  readonly packed: boolean;
  readonly q: HeadLayout;
  readonly k: HeadLayout;
  readonly v: HeadLayout;
  readonly scale: number;
  readonly softcap: number;
  readonly window: number;
  readonly rotary: boolean;
  readonly rotaryDim: number;
  readonly interleaved: boolean;
  readonly smooth: boolean;
  readonly outputs: TensorMeta[];
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function gqaPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): GqaPlan {
  const q = requireInput(inputs, Q, ctx);
  requireType(q, FLOAT_TYPES, ctx, 'query');
  const N = ctx.attrs.int('num_heads', 0), Nkv = ctx.attrs.int('kv_num_heads', 0);
  if (N < 1 || Nkv < 1 || N % Nkv !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': num_heads (${N}) must be a positive multiple of kv_num_heads (${Nkv})`);
  if (ctx.attrs.int('qk_output', 0) !== 0) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': GroupQueryAttention with qk_output is not supported`);
  if (q.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': query has shape ${dimsText(q.dims)}, expected [B, S, D]`);
  const [B, S, Dq] = q.dims as [number, number, number];
  const k = inputs[K], v = inputs[V];
  const packed = !k;
  if (packed && v) fail('INVALID_GRAPH', `node '${ctx.node}': value without key`);
  const H = packed ? Dq / (N + 2 * Nkv) : Dq / N;
  if (!Number.isInteger(H)) fail('INVALID_GRAPH', `node '${ctx.node}': query width ${Dq} does not split into ${packed ? `${N} + 2 x ${Nkv}` : N} heads`);
  const kvD = Nkv * H;
  for (const [m, name] of [[k, 'key'], [v, 'value']] as const) {
    if (!packed && (!m || m.dtype !== q.dtype || m.dims.length !== 3 || m.dims[0] !== B || m.dims[1] !== S || m.dims[2] !== kvD)) {
      fail('INVALID_GRAPH', `node '${ctx.node}': ${name} must be ${q.dtype} [${B}, ${S}, ${kvD}], got ${m ? `${m.dtype} ${dimsText(m.dims)}` : 'nothing'}`);
    }
  }
  const pk = inputs[PAST_K], pv = inputs[PAST_V];
  let Pbuf = 0;
  if (!!pk !== !!pv) fail('INVALID_GRAPH', `node '${ctx.node}': past_key and past_value come together`);
  if (pk && pv) {
    Pbuf = pk.dims[2] ?? 0;
    for (const [m, name] of [[pk, 'past_key'], [pv, 'past_value']] as const) {
      if (m.dtype !== q.dtype || m.dims.length !== 4 || m.dims[0] !== B || m.dims[1] !== Nkv || m.dims[2] !== Pbuf || m.dims[3] !== H) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has shape ${dimsText(m.dims)}, expected [${B}, ${Nkv}, P, ${H}]`);
    }
  }
  const sl = requireInput(inputs, SEQLENS, ctx);
  if (sl.dtype !== 'int32' || product(sl.dims) !== B) fail('INVALID_GRAPH', `node '${ctx.node}': seqlens_k must be int32 [${B}], got ${sl.dtype} ${dimsText(sl.dims)}`);
  const totalMeta = requireInput(inputs, TOTAL, ctx);
  if (totalMeta.dtype !== 'int32' || product(totalMeta.dims) !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': total_sequence_length must be an int32 scalar`);
  const total = hostInts(ctx, TOTAL)?.[0];
  if (total === undefined) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': total_sequence_length must be known when the session is planned (a constant or computed from shapes)`);
  if (total < S) fail('INVALID_GRAPH', `node '${ctx.node}': total_sequence_length ${total} is less than the sequence length ${S}`);
  const rotary = ctx.attrs.int('do_rotary', 0) !== 0;
  let rotaryDim = 0;
  if (rotary) {
    const cos = inputs[COS], sin = inputs[SIN];
    if (!cos || !sin || cos.dims.length !== 2 || sin.dims.length !== 2 || cos.dims[1] !== sin.dims[1] || cos.dims[0] !== sin.dims[0]) fail('INVALID_GRAPH', `node '${ctx.node}': do_rotary needs cos_cache and sin_cache of one shape [max_position, rotary_dim / 2]`);
    rotaryDim = 2 * cos.dims[1]!;
    if (rotaryDim > H) fail('INVALID_GRAPH', `node '${ctx.node}': rotary dim ${rotaryDim} exceeds the head size ${H}`);
  }
  const pos = inputs[POS_IDS];
  if (pos && product(pos.dims) !== B * S) fail('INVALID_GRAPH', `node '${ctx.node}': position_ids must hold ${B * S} values, got ${dimsText(pos.dims)}`);
  const Tp = Math.max(total, Pbuf);
  const ab = inputs[ATTN_BIAS];
  if (ab && (ab.dims.length !== 4 || (ab.dims[0] !== B && ab.dims[0] !== 1) || (ab.dims[1] !== N && ab.dims[1] !== 1) || ab.dims[2] !== S || ab.dims[3] !== total)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': attention_bias has shape ${dimsText(ab.dims)}, expected [${B} or 1, ${N} or 1, ${S}, ${total}]`);
  }
  const sink = inputs[SINK];
  if (sink && product(sink.dims) !== N) fail('INVALID_GRAPH', `node '${ctx.node}': head_sink must hold ${N} values`);
  const row = packed ? Dq : 0;
  const scaleAttr = ctx.attrs.float('scale', 0);
  return {
    B, S, N, Nkv, H, Pbuf, total, Tp, packed,
    q: bsdLayout(S, packed ? row : Dq, H, 0),
    k: packed ? bsdLayout(S, row, H, N * H) : bsdLayout(S, kvD, H),
    v: packed ? bsdLayout(S, row, H, N * H + kvD) : bsdLayout(S, kvD, H),
    scale: scaleAttr === 0 ? 1 / Math.sqrt(H) : scaleAttr,
    softcap: ctx.attrs.float('softcap', 0),
    window: ctx.attrs.int('local_window_size', -1),
    rotary, rotaryDim,
    interleaved: ctx.attrs.int('rotary_interleaved', 0) !== 0,
    smooth: ctx.attrs.int('smooth_softmax', 0) !== 0,
    outputs: [
      { dtype: q.dtype, dims: [B, S, N * H] },
      { dtype: q.dtype, dims: [B, Nkv, Tp, H] },
      { dtype: q.dtype, dims: [B, Nkv, Tp, H] },
    ],
  };
}

/** Rows of past each batch keeps: 0 on the first prompt (S == total_sequence_length), else seqlens_k + 1 - S. */
export function pastLengths(p: GqaPlan, seqlens: Int32Array, ctx: KernelContext): number[] {
  const prompt = p.S === p.total;
  return Array.from({ length: p.B }, (_, b) => {
    const total = seqlens[b]! + 1;
    const past = prompt ? 0 : total - p.S;
    if (past < 0 || total > p.Tp || (!prompt && past > p.Pbuf)) fail('INVALID_ARGUMENT', `node '${ctx.node}': seqlens_k[${b}] = ${seqlens[b]} does not fit ${p.S} new tokens, a past of ${p.Pbuf} and total_sequence_length ${p.total}`);
    return past;
  });
}

/** Rotates the first rotary_dim values of each [.., S, heads, H] row in place at its position. */
function rotate(x: Floats, p: GqaPlan, layout: HeadLayout, heads: number, position: (b: number, s: number) => number, cos: Float64Array, sin: Float64Array): void {
  const half = p.rotaryDim / 2;
  const maxPos = cos.length / half;
  for (let b = 0; b < p.B; b++) for (let s = 0; s < p.S; s++) {
    const pos = position(b, s);
    if (pos < 0 || pos >= maxPos) fail('INVALID_ARGUMENT', `position ${pos} is outside the rotary cache of ${maxPos} positions`);
    for (let n = 0; n < heads; n++) {
      const o = layout.base + b * layout.sb + s * layout.sl + n * layout.sn;
      for (let i = 0; i < half; i++) {
        const c = cos[pos * half + i]!, sn = sin[pos * half + i]!;
        const a = p.interleaved ? o + 2 * i : o + i;
        const bb = p.interleaved ? o + 2 * i + 1 : o + i + half;
        const x1 = x[a]!, x2 = x[bb]!;
        x[a] = x1 * c - x2 * sn;
        x[bb] = x2 * c + x1 * sn;
      }
    }
  }
}

export function gqaProblem(inputs: readonly MaybeTensor[], p: GqaPlan, alloc: Alloc, ctx: KernelContext): { problem: Problem; presentK: Floats; presentV: Floats } {
  const { B, S, N, Nkv, H, Tp } = p;
  const copy = (t: AnyTensor): Floats => {
    const a = alloc(t.size);
    a.set(toNumbers(t));
    return a;
  };
  const query = copy(inputs[Q]!);
  const kSrc = p.packed ? query : copy(inputs[K]!);
  const vSrc = p.packed ? query : copy(inputs[V]!);
  const past = pastLengths(p, inputs[SEQLENS]!.data as Int32Array, ctx);
  if (p.rotary) {
    const ids = inputs[POS_IDS] ? toNumbers(inputs[POS_IDS]) : undefined;
    const position = (b: number, s: number): number => (ids ? ids[b * S + s]! : past[b]! + s);
    const cos = toNumbers(inputs[COS]!), sin = toNumbers(inputs[SIN]!);
    rotate(query, p, p.q, N, position, cos, sin);
    rotate(kSrc, p, p.k, Nkv, position, cos, sin);
  }
  const pk = inputs[PAST_K] ? toNumbers(inputs[PAST_K]) : undefined;
  const pv = inputs[PAST_V] ? toNumbers(inputs[PAST_V]) : undefined;
  const at = (b: number): number => past[b]!;
  const qb = gatherHeads(alloc, { B, heads: N, L: S, hd: H, Tbuf: S }, query, p.q);
  const kb = gatherHeads(alloc, { B, heads: Nkv, L: S, hd: H, Tbuf: Tp }, kSrc, p.k, pk && { data: pk, len: p.Pbuf, rowsPerHead: p.Pbuf, at });
  const vb = gatherHeads(alloc, { B, heads: Nkv, L: S, hd: H, Tbuf: Tp }, vSrc, p.v, pv && { data: pv, len: p.Pbuf, rowsPerHead: p.Pbuf, at });
  const abT = inputs[ATTN_BIAS];
  const ab = abT ? toNumbers(abT) : undefined;
  const sink = inputs[SINK] ? toNumbers(inputs[SINK]) : undefined;
  const problem: Problem = {
    B, N, Nkv, S, Tbuf: Tp, H, Hv: H, q: qb, k: kb, v: vb,
    scale: p.scale, softcap: p.softcap, softcapFirst: true,
    window: (b, s) => {
      const hi = past[b]! + s + 1;
      return [p.window >= 0 && hi > p.window + 1 ? hi - p.window - 1 : 0, hi];
    },
    add: ab ? (b, n, s, t) => ab[((((abT!.dims[0] === 1 ? 0 : b) * abT!.dims[1]!) + (abT!.dims[1] === 1 ? 0 : n)) * S + s) * p.total + t]! : undefined,
    sink: sink ? (n) => sink[n]! : p.smooth ? () => 0 : undefined,
  };
  return { problem, presentK: kb, presentV: vb };
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = gqaPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { problem, presentK, presentV } = gqaProblem(inputs, p, (n) => new Float64Array(n), ctx);
  const out = bnshToBsd(attendReference(problem), p.B, p.N, p.S, p.H);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, [out, presentK, presentV], ctx.outputCount);
}

export const groupQueryAttention: OpDefinition = {
  opType: 'GroupQueryAttention',
  domain: 'com.microsoft',
  hostInputs: [TOTAL],
  inferOutputs: (inputs, ctx) => gqaPlan(inputs, ctx).outputs.slice(0, Math.max(1, ctx.outputCount ?? 3)),
  reference,
};
