import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { causalSkipEnd, contribMask, contribMaskKind, type ContribMaskKind } from './contrib-mask.ts';
import { attendReference, bnshLayout, bnshToBsd, bsdLayout, gatherHeads, type Alloc, type Floats, type HeadLayout, type Problem } from './core.ts';

/**
 * com.microsoft MultiHeadAttention, as onnxruntime's contrib spec and CPU kernel define it.
 * Inputs: query [B, S, D] or packed QKV [B, S, N, 3, H] (key and value absent); key [B, L, D],
 * packed KV [B, L, N, 2, H] (value absent) or [B, N, L, H] (cross-attention cache, bias not
 * added); value [B, L, Dv] or [B, N, L, Hv]; bias [D + D + Dv]; key_padding_mask (int32: [B] end
 * positions, [2B] ends and starts, [B, T], [B, S, T]); attention_bias [B|1, N|1, S, T];
 * past_key/past_value [B, N, P, H|Hv]. Outputs: [B, S, N * Hv], present_key/present_value
 * [B, N, P + L, H|Hv]. T = P + L.
 */
export const Q = 0, K = 1, V = 2, BIAS = 3, MASK = 4, ATTN_BIAS = 5, PAST_K = 6, PAST_V = 7;

export type KvForm = 'bsd' | 'packed-qkv' | 'packed-kv' | 'bnsh';

export interface MhaPlan {
  readonly B: number;
  readonly S: number;
  readonly N: number;
  readonly L: number;
  readonly P: number;
  readonly T: number;
  readonly H: number;
  readonly Hv: number;
  readonly form: KvForm;
  readonly q: HeadLayout;
  readonly k: HeadLayout;
  readonly v: HeadLayout;
  readonly mask: ContribMaskKind;
  readonly scale: number;
  readonly filter: number;
  readonly causal: boolean;
  readonly outputs: TensorMeta[];
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function mhaPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): MhaPlan {
  const q = requireInput(inputs, Q, ctx);
  requireType(q, FLOAT_TYPES, ctx, 'query');
  const N = ctx.attrs.int('num_heads', 0);
  if (N < 1) fail('INVALID_GRAPH', `node '${ctx.node}': num_heads must be >= 1, got ${N}`);
  const k = inputs[K], v = inputs[V];
  const bad = (what: string, m: TensorMeta, want: string): never => fail('INVALID_GRAPH', `node '${ctx.node}': ${what} has shape ${dimsText(m.dims)}, expected ${want}`);
  for (const [i, name] of [[K, 'key'], [V, 'value'], [BIAS, 'bias'], [ATTN_BIAS, 'attention_bias'], [PAST_K, 'past_key'], [PAST_V, 'past_value']] as const) {
    const m = inputs[i];
    if (m && m.dtype !== q.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${m.dtype} differs from query type ${q.dtype}`);
  }
  const B = q.dims[0]!, S = q.dims[1]!;
  let form: KvForm, L: number, H: number, Hv: number;
  let ql: HeadLayout, kl: HeadLayout, vl: HeadLayout;
  if (q.dims.length === 5) {
    if (k || v) fail('INVALID_GRAPH', `node '${ctx.node}': packed QKV query [B, S, N, 3, H] takes no key or value`);
    if (q.dims[2] !== N || q.dims[3] !== 3) bad('query', q, `[B, S, ${N}, 3, H]`);
    form = 'packed-qkv';
    H = Hv = q.dims[4]!;
    L = S;
    const row = N * 3 * H;
    ql = { base: 0, sb: S * row, sl: row, sn: 3 * H };
    kl = { ...ql, base: H };
    vl = { ...ql, base: 2 * H };
  } else {
    if (q.dims.length !== 3) bad('query', q, '[B, S, D] or [B, S, N, 3, H]');
    const D = q.dims[2]!;
    if (D % N !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': query hidden size ${D} is not a multiple of num_heads ${N}`);
    H = D / N;
    ql = bsdLayout(S, D, H);
    if (!k) fail('INVALID_GRAPH', `node '${ctx.node}': key is required unless query is packed QKV [B, S, N, 3, H]`);
    if (k.dims.length === 5) {
      if (v) fail('INVALID_GRAPH', `node '${ctx.node}': packed KV key [B, L, N, 2, H] takes no value`);
      if (k.dims[0] !== B || k.dims[2] !== N || k.dims[3] !== 2 || k.dims[4] !== H) bad('key', k, `[${B}, L, ${N}, 2, ${H}]`);
      form = 'packed-kv';
      L = k.dims[1]!;
      Hv = H;
      const row = N * 2 * H;
      kl = { base: 0, sb: L * row, sl: row, sn: 2 * H };
      vl = { ...kl, base: H };
    } else {
      if (!v) fail('INVALID_GRAPH', `node '${ctx.node}': value is required with a key of rank ${k.dims.length}`);
      if (k.dims.length === 3) {
        if (k.dims[0] !== B || k.dims[2] !== D) bad('key', k, `[${B}, L, ${D}]`);
        L = k.dims[1]!;
        if (v.dims.length !== 3 || v.dims[0] !== B || v.dims[1] !== L || v.dims[2]! % N !== 0) bad('value', v, `[${B}, ${L}, Dv] with Dv a multiple of ${N}`);
        form = 'bsd';
        Hv = v.dims[2]! / N;
        kl = bsdLayout(L, D, H);
        vl = bsdLayout(L, Hv * N, Hv);
      } else if (k.dims.length === 4) {
        if (k.dims[0] !== B || k.dims[1] !== N || k.dims[3] !== H) bad('key', k, `[${B}, ${N}, L, ${H}]`);
        L = k.dims[2]!;
        if (v.dims.length !== 4 || v.dims[0] !== B || v.dims[1] !== N || v.dims[2] !== L) bad('value', v, `[${B}, ${N}, ${L}, Hv]`);
        form = 'bnsh';
        Hv = v.dims[3]!;
        kl = bnshLayout(N, L, H);
        vl = bnshLayout(N, L, Hv);
      } else return bad('key', k, '[B, L, D], [B, L, N, 2, H] or [B, N, L, H]');
    }
  }
  const bias = inputs[BIAS];
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== 2 * N * H + N * Hv)) bad('bias', bias, `[${2 * N * H + N * Hv}]`);
  const pk = inputs[PAST_K], pv = inputs[PAST_V];
  if (!!pk !== !!pv) fail('INVALID_GRAPH', `node '${ctx.node}': past_key and past_value come together`);
  let P = 0;
  if (pk && pv) {
    if (form === 'bnsh') fail('INVALID_GRAPH', `node '${ctx.node}': past_key/past_value cannot be combined with a key already in [B, N, L, H] form`);
    if (pk.dims.length !== 4 || pk.dims[0] !== B || pk.dims[1] !== N || pk.dims[3] !== H) bad('past_key', pk, `[${B}, ${N}, P, ${H}]`);
    P = pk.dims[2]!;
    if (pv.dims.length !== 4 || pv.dims[0] !== B || pv.dims[1] !== N || pv.dims[2] !== P || pv.dims[3] !== Hv) bad('past_value', pv, `[${B}, ${N}, ${P}, ${Hv}]`);
  }
  const T = P + L;
  const mask = contribMaskKind(inputs[MASK], { B, S, T }, ctx, 'key_padding_mask', false);
  const ab = inputs[ATTN_BIAS];
  if (ab && (ab.dims.length !== 4 || (ab.dims[0] !== B && ab.dims[0] !== 1) || (ab.dims[1] !== N && ab.dims[1] !== 1) || ab.dims[2] !== S || ab.dims[3] !== T)) bad('attention_bias', ab, `[${B} or 1, ${N} or 1, ${S}, ${T}]`);
  const scaleAttr = ctx.attrs.float('scale', 0);
  return {
    B, S, N, L, P, T, H, Hv, form, q: ql, k: kl, v: vl, mask,
    scale: scaleAttr === 0 ? 1 / Math.sqrt(H) : scaleAttr,
    filter: ctx.attrs.float('mask_filter_value', -10000),
    causal: ctx.attrs.int('unidirectional', 0) !== 0,
    outputs: [
      { dtype: q.dtype, dims: [B, S, N * Hv] },
      { dtype: q.dtype, dims: [B, N, T, H] },
      { dtype: q.dtype, dims: [B, N, T, Hv] },
    ],
  };
}

/** attention_bias [B|1, N|1, S, T] read with its broadcasting. */
export function attentionBiasReader(t: MaybeTensor, N: number, S: number, T: number): ((b: number, n: number, s: number, tt: number) => number) | undefined {
  if (!t) return undefined;
  const d = toNumbers(t);
  const [db, dn] = t.dims as number[];
  return (b, n, s, tt) => d[(((db === 1 ? 0 : b) * dn! + (dn === 1 ? 0 : n)) * S + s) * T + tt]!;
}

/** The canonical problem and the present tensors, built with `alloc` (float64 for the reference, float32 for the fast path). */
export function mhaProblem(inputs: readonly MaybeTensor[], p: MhaPlan, alloc: Alloc, fast = false): { problem: Problem; presentK: Floats; presentV: Floats } {
  const { B, S, N, L, P, T, H, Hv } = p;
  const num = (i: number): Floats | undefined => (inputs[i] ? toNumbers(inputs[i]) : undefined);
  const query = num(Q)!;
  const kSrc = p.form === 'packed-qkv' ? query : num(K)!;
  const vSrc = p.form === 'packed-qkv' ? query : p.form === 'packed-kv' ? kSrc : num(V)!;
  const biasData = num(BIAS);
  const addBias = biasData && p.form !== 'bnsh';
  const pastK = num(PAST_K), pastV = num(PAST_V);
  const qb = gatherHeads(alloc, { B, heads: N, L: S, hd: H, Tbuf: S }, query, p.q, undefined, biasData && { data: biasData, at: 0 });
  const kb = gatherHeads(alloc, { B, heads: N, L, hd: H, Tbuf: T }, kSrc, p.k, pastK && { data: pastK, len: P, rowsPerHead: P, at: () => P }, addBias ? { data: biasData, at: N * H } : undefined);
  const vb = gatherHeads(alloc, { B, heads: N, L, hd: Hv, Tbuf: T }, vSrc, p.v, pastV && { data: pastV, len: P, rowsPerHead: P, at: () => P }, addBias ? { data: biasData, at: 2 * N * H } : undefined);
  const maskData = inputs[MASK]?.data as Int32Array | undefined;
  const mask = contribMask(p.mask, maskData, { B, S, T, past: P }, p.causal, p.filter);
  const bias = attentionBiasReader(inputs[ATTN_BIAS], N, S, T);
  const add = mask || bias ? (b: number, n: number, s: number, t: number): number => (mask ? mask(b, s, t) : 0) + (bias ? bias(b, n, s, t) : 0) : undefined;
  // the fast path leaves out keys whose weight is exactly 0 (contrib-mask.ts causalSkipEnd)
  const skipEnd = fast ? causalSkipEnd(p.mask, p.causal, S, p.filter, !!inputs[ATTN_BIAS]) : undefined;
  const problem: Problem = {
    B, N, Nkv: N, S, Tbuf: T, H, Hv, q: qb, k: kb, v: vb,
    scale: p.scale, softcap: 0, softcapFirst: false,
    window: skipEnd ? (_b, s) => [0, P + skipEnd(s)] : () => [0, T],
    // with the future skipped, the causal mask adds nothing to the keys left
    add: skipEnd ? undefined : add,
  };
  return { problem, presentK: kb, presentV: vb };
}

/** Output tensors in the node's order: output, present_key, present_value (as many as asked). */
export function finishOutputs(dtype: TensorMeta['dtype'], metas: readonly TensorMeta[], values: readonly Floats[], count: number | undefined): AnyTensor[] {
  return metas.slice(0, Math.max(1, count ?? 1)).map((m, i) => fromNumbers(dtype, m.dims, values[i]!));
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = mhaPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { problem, presentK, presentV } = mhaProblem(inputs, p, (n) => new Float64Array(n));
  const out = bnshToBsd(attendReference(problem), p.B, p.N, p.S, p.Hv);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, [out, presentK, presentV], ctx.outputCount);
}

export const multiHeadAttention: OpDefinition = {
  opType: 'MultiHeadAttention',
  domain: 'com.microsoft',
  inferOutputs: (inputs, ctx) => mhaPlan(inputs, ctx).outputs.slice(0, Math.max(1, ctx.outputCount ?? 3)),
  reference,
};
