import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { attendReference, bnshLayout, bnshToBsd, bsdLayout, gatherHeads, type Alloc, type Floats, type HeadLayout, type Problem } from './core.ts';
import { finishOutputs } from './multi-head-op.ts';

/**
 * ai.onnx Attention (opset 23; opset 24's nonpad_kv_seqlen too). Q, K, V either 4-D
 * [B, heads, L, H] or 3-D [B, L, heads * H] (q_num_heads / kv_num_heads then required); kv heads
 * divide q heads (GQA). past_key/past_value [B, kv_heads, P, H|Hv] are prepended: present_key and
 * present_value. attn_mask broadcasts to [B, q_heads, S, T] (a shorter last dim is padded with
 * masked keys): bool false or a float value is added to scale * QK^T (-inf for bool), then
 * is_causal masks keys t > P + s (t > len[b] - S + s with nonpad_kv_seqlen), nonpad_kv_seqlen keys
 * t >= len[b]. softcap applies to scale * QK^T before the mask is added (the order the ONNX
 * conformance data and qk_matmul_output_mode's numbering follow); a row with every key masked is 0. Y is [B, S, q_heads * Hv] for 3-D inputs, [B, q_heads, S, Hv] for 4-D.
 * qk_matmul_output (output 3) is refused at load.
 */
export const Q = 0, K = 1, V = 2, MASK = 3, PAST_K = 4, PAST_V = 5, NONPAD = 6;

export interface OnnxAttentionPlan {
  readonly B: number;
  readonly S: number;
  readonly L: number;
  readonly P: number;
  readonly T: number;
  readonly N: number;
  readonly Nkv: number;
  readonly H: number;
  readonly Hv: number;
  readonly rank: 3 | 4;
  readonly q: HeadLayout;
  readonly k: HeadLayout;
  readonly v: HeadLayout;
  /** attn_mask dims right-aligned to rank 4 ([1, 1, 1, 1]-padded) */
  readonly maskDims?: readonly number[];
  readonly maskBool: boolean;
  /**
   * The mask broadcasts along the keys like an Add (a last dim of 1 repeats) instead of padding
   * a short last dim with -inf: set on the nodes runtime/graph/passes/recognize-attention.ts makes
   * from MatMul/Softmax attention (internal attribute kiln_additive_mask).
   */
  readonly maskBroadcast: boolean;
  readonly causal: boolean;
  readonly scale: number;
  readonly softcap: number;
  /** what output 3 (qk_matmul_output) holds: 0 scale * QK^T, 1 softcapped, 2 + mask, 3 softmax (the conformance data's order) */
  readonly qkMode: number;
  readonly outputs: TensorMeta[];
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function onnxAttentionPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): OnnxAttentionPlan {
  const q = requireInput(inputs, Q, ctx), k = requireInput(inputs, K, ctx), v = requireInput(inputs, V, ctx);
  requireType(q, FLOAT_TYPES, ctx, 'Q');
  for (const [m, name] of [[k, 'K'], [v, 'V'], [inputs[PAST_K], 'past_key'], [inputs[PAST_V], 'past_value']] as const) {
    if (m && m.dtype !== q.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} type ${m.dtype} differs from Q type ${q.dtype}`);
  }
  const qkMode = ctx.attrs.int('qk_matmul_output_mode', 0);
  if (qkMode < 0 || qkMode > 3) fail('INVALID_GRAPH', `node '${ctx.node}': qk_matmul_output_mode must be 0..3, got ${qkMode}`);
  const rank = q.dims.length;
  if ((rank !== 3 && rank !== 4) || k.dims.length !== rank || v.dims.length !== rank) fail('INVALID_GRAPH', `node '${ctx.node}': Q, K and V must all be 3-D or all 4-D, got ${dimsText(q.dims)}, ${dimsText(k.dims)}, ${dimsText(v.dims)}`);
  const B = q.dims[0]!;
  let N: number, Nkv: number, S: number, L: number, H: number, Hv: number;
  if (rank === 4) {
    [, N, S, H] = q.dims as [number, number, number, number];
    Nkv = k.dims[1]!;
    L = k.dims[2]!;
    Hv = v.dims[3]!;
    if (k.dims[0] !== B || k.dims[3] !== H || v.dims[0] !== B || v.dims[1] !== Nkv || v.dims[2] !== L) fail('INVALID_GRAPH', `node '${ctx.node}': K ${dimsText(k.dims)} and V ${dimsText(v.dims)} do not match Q ${dimsText(q.dims)}`);
  } else {
    N = ctx.attrs.int('q_num_heads', 0);
    Nkv = ctx.attrs.int('kv_num_heads', 0);
    if (N < 1 || Nkv < 1) fail('INVALID_GRAPH', `node '${ctx.node}': 3-D inputs need the q_num_heads and kv_num_heads attributes`);
    S = q.dims[1]!;
    L = k.dims[1]!;
    H = q.dims[2]! / N;
    Hv = v.dims[2]! / Nkv;
    if (!Number.isInteger(H) || !Number.isInteger(Hv) || k.dims[2] !== Nkv * H || k.dims[0] !== B || v.dims[0] !== B || v.dims[1] !== L) fail('INVALID_GRAPH', `node '${ctx.node}': Q ${dimsText(q.dims)}, K ${dimsText(k.dims)}, V ${dimsText(v.dims)} do not split into ${N} and ${Nkv} heads`);
  }
  if (N % Nkv !== 0) fail('INVALID_GRAPH', `node '${ctx.node}': q heads ${N} must be a multiple of kv heads ${Nkv}`);
  const pk = inputs[PAST_K], pv = inputs[PAST_V];
  if (!!pk !== !!pv) fail('INVALID_GRAPH', `node '${ctx.node}': past_key and past_value come together`);
  let P = 0;
  if (pk && pv) {
    P = pk.dims[2] ?? 0;
    if (pk.dims.length !== 4 || pk.dims[0] !== B || pk.dims[1] !== Nkv || pk.dims[3] !== H) fail('INVALID_GRAPH', `node '${ctx.node}': past_key has shape ${dimsText(pk.dims)}, expected [${B}, ${Nkv}, P, ${H}]`);
    if (pv.dims.length !== 4 || pv.dims[0] !== B || pv.dims[1] !== Nkv || pv.dims[2] !== P || pv.dims[3] !== Hv) fail('INVALID_GRAPH', `node '${ctx.node}': past_value has shape ${dimsText(pv.dims)}, expected [${B}, ${Nkv}, ${P}, ${Hv}]`);
  }
  const T = P + L;
  const mask = inputs[MASK];
  let maskDims: number[] | undefined;
  if (mask) {
    if (mask.dtype !== 'bool' && mask.dtype !== q.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': attn_mask must be bool or ${q.dtype}, got ${mask.dtype}`);
    if (mask.dims.length < 1 || mask.dims.length > 4) fail('INVALID_GRAPH', `node '${ctx.node}': attn_mask must have rank 1 to 4, got ${dimsText(mask.dims)}`);
    maskDims = [...Array<number>(4 - mask.dims.length).fill(1), ...mask.dims];
    const want = [B, N, S, T];
    const broadcast = ctx.attrs.int('kiln_additive_mask', 0) !== 0;
    maskDims.forEach((d, i) => {
      const ok = i === 3 ? (broadcast ? d === 1 || d === T : d >= 1 && d <= T) : d === 1 || d === want[i];
      if (!ok) fail('INVALID_GRAPH', `node '${ctx.node}': attn_mask ${dimsText(mask.dims)} does not broadcast to [${want.join(', ')}]`);
    });
  }
  const nonpad = inputs[NONPAD];
  if (nonpad && product(nonpad.dims) !== B) fail('INVALID_GRAPH', `node '${ctx.node}': nonpad_kv_seqlen must hold ${B} values`);
  const scaleAttr = ctx.attrs.float('scale');
  const outputs: TensorMeta[] = [
    { dtype: q.dtype, dims: rank === 3 ? [B, S, N * Hv] : [B, N, S, Hv] },
    { dtype: q.dtype, dims: [B, Nkv, T, H] },
    { dtype: q.dtype, dims: [B, Nkv, T, Hv] },
    { dtype: q.dtype, dims: [B, N, S, T] },
  ];
  return {
    B, S, L, P, T, N, Nkv, H, Hv, rank: rank as 3 | 4,
    q: rank === 3 ? bsdLayout(S, N * H, H) : bnshLayout(N, S, H),
    k: rank === 3 ? bsdLayout(L, Nkv * H, H) : bnshLayout(Nkv, L, H),
    v: rank === 3 ? bsdLayout(L, Nkv * Hv, Hv) : bnshLayout(Nkv, L, Hv),
    maskDims,
    maskBool: mask?.dtype === 'bool',
    maskBroadcast: ctx.attrs.int('kiln_additive_mask', 0) !== 0,
    causal: ctx.attrs.int('is_causal', 0) !== 0,
    scale: scaleAttr === undefined ? 1 / Math.sqrt(H) : scaleAttr,
    softcap: ctx.attrs.float('softcap', 0),
    qkMode,
    outputs: outputs.slice(0, Math.max(1, Math.min(4, ctx.outputCount ?? 1))),
  };
}

export function onnxAttentionProblem(inputs: readonly MaybeTensor[], p: OnnxAttentionPlan, alloc: Alloc): { problem: Problem; presentK: Floats; presentV: Floats } {
  const { B, S, L, P, T, N, Nkv, H, Hv } = p;
  const num = (i: number): Float64Array | undefined => (inputs[i] ? toNumbers(inputs[i]) : undefined);
  const pk = num(PAST_K), pv = num(PAST_V);
  const qb = gatherHeads(alloc, { B, heads: N, L: S, hd: H, Tbuf: S }, num(Q)!, p.q);
  const kb = gatherHeads(alloc, { B, heads: Nkv, L, hd: H, Tbuf: T }, num(K)!, p.k, pk && { data: pk, len: P, rowsPerHead: P, at: () => P });
  const vb = gatherHeads(alloc, { B, heads: Nkv, L, hd: Hv, Tbuf: T }, num(V)!, p.v, pv && { data: pv, len: P, rowsPerHead: P, at: () => P });
  const mask = num(MASK);
  const md = p.maskDims;
  const nonpad = num(NONPAD);
  // with nonpad_kv_seqlen the queries are the last S of each batch's valid keys
  const causalOffset = (b: number): number => (nonpad ? nonpad[b]! - S : P);
  const add = (b: number, n: number, s: number, t: number): number => {
    if (p.causal && t > causalOffset(b) + s) return -Infinity;
    if (nonpad && t >= nonpad[b]!) return -Infinity;
    if (!mask || !md) return 0;
    const tm = p.maskBroadcast && md[3] === 1 ? 0 : t;
    if (tm >= md[3]!) return -Infinity;
    const at = (((md[0] === 1 ? 0 : b) * md[1]! + (md[1] === 1 ? 0 : n)) * md[2]! + (md[2] === 1 ? 0 : s)) * md[3]! + tm;
    return p.maskBool ? (mask[at] ? 0 : -Infinity) : mask[at]!;
  };
  const problem: Problem = {
    B, N, Nkv, S, Tbuf: T, H, Hv, q: qb, k: kb, v: vb,
    scale: p.scale, softcap: p.softcap, softcapFirst: true,
    window: () => [0, T],
    add: mask || nonpad || p.causal ? add : undefined,
  };
  return { problem, presentK: kb, presentV: vb };
}

/** [B, N, S, Hv] as Y: kept for 4-D inputs, [B, S, N * Hv] for 3-D. */
export function outputLayout(y: Floats, p: OnnxAttentionPlan): Floats {
  return p.rank === 3 ? bnshToBsd(y, p.B, p.N, p.S, p.Hv) : y;
}

/** qk_matmul_output [B, N, S, T]: the scores at the stage qk_matmul_output_mode names. */
function qkMatrix(pr: Problem, p: OnnxAttentionPlan): Float64Array {
  const { B, N, Nkv, S, Tbuf: T, H } = pr;
  const out = new Float64Array(B * N * S * T);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
    const row = ((b * N + n) * S + s) * T;
    const kv = (b * Nkv + Math.floor(n / (N / Nkv))) * T;
    for (let t = 0; t < T; t++) {
      let dot = 0;
      for (let h = 0; h < H; h++) dot += pr.q[((b * N + n) * S + s) * H + h]! * pr.k[(kv + t) * H + h]!;
      const x = dot * pr.scale;
      const capped = p.softcap > 0 ? p.softcap * Math.tanh(x / p.softcap) : x;
      out[row + t] = p.qkMode === 0 ? x : p.qkMode === 1 ? capped : capped + (pr.add ? pr.add(b, n, s, t) : 0);
    }
    if (p.qkMode === 3) {
      const xs = out.subarray(row, row + T);
      const max = Math.max(...xs);
      if (max === -Infinity) xs.fill(0);
      else {
        let sum = 0;
        for (let t = 0; t < T; t++) sum += (xs[t] = Math.exp(xs[t]! - max));
        for (let t = 0; t < T; t++) xs[t] = xs[t]! / sum;
      }
    }
  }
  return out;
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = onnxAttentionPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { problem, presentK, presentV } = onnxAttentionProblem(inputs, p, (n) => new Float64Array(n));
  const values = [outputLayout(attendReference(problem), p), presentK, presentV];
  if (p.outputs.length > 3) values.push(qkMatrix(problem, p));
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, values, p.outputs.length);
}

export const onnxAttention: OpDefinition = {
  opType: 'Attention',
  inferOutputs: (inputs, ctx) => onnxAttentionPlan(inputs, ctx).outputs,
  reference,
};
