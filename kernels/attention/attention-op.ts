import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';
import { causalSkipEnd, contribMask, contribMaskKind, type ContribMaskKind } from './contrib-mask.ts';
import { attendReference, bsdLayout, bnshToBsd, gatherHeads, type Alloc, type Floats, type Problem } from './core.ts';
import { attentionBiasReader, finishOutputs } from './multi-head-op.ts';

/**
 * com.microsoft Attention (BERT/GPT-2 exports): QKV = input x weights + bias, then multi-head
 * attention. input [B, S, Din], weights [Din, Dq + Dk + Dv] (qkv_hidden_sizes, default three equal
 * parts), bias [Dq + Dk + Dv], mask_index (int32: [B], [2B], [B, T], [B, S, T], Megatron
 * [B, 1, M, M]), past [2, B, N, P, H], attention_bias [B|1, N|1, S, T]. Outputs [B, S, Dv] and
 * present [2, B, N, P + S, H]. do_rotary and past_present_share_buffer are refused at load.
 */
export const X = 0, W = 1, BIAS = 2, MASK = 3, PAST = 4, ATTN_BIAS = 5;

export interface AttentionPlan {
  readonly B: number;
  readonly S: number;
  readonly Din: number;
  readonly N: number;
  readonly Dq: number;
  readonly Dv: number;
  readonly Dtot: number;
  readonly H: number;
  readonly Hv: number;
  readonly P: number;
  readonly T: number;
  readonly mask: ContribMaskKind;
  readonly megatronSize: number;
  readonly scale: number;
  readonly filter: number;
  readonly causal: boolean;
  readonly outputs: TensorMeta[];
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;

export function attentionPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): AttentionPlan {
  const x = requireInput(inputs, X, ctx);
  const w = requireInput(inputs, W, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  if (w.dtype !== x.dtype) fail('INVALID_GRAPH', `node '${ctx.node}': weights type ${w.dtype} differs from input type ${x.dtype}`);
  if (ctx.attrs.int('do_rotary', 0) !== 0) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': Attention with do_rotary=1 is not supported (use RotaryEmbedding before MultiHeadAttention)`);
  if (ctx.attrs.int('past_present_share_buffer', 0) !== 0) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': Attention with past_present_share_buffer=1 is not supported`);
  const N = ctx.attrs.int('num_heads', 0);
  if (N < 1) fail('INVALID_GRAPH', `node '${ctx.node}': num_heads must be >= 1, got ${N}`);
  if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': input has shape ${dimsText(x.dims)}, expected [B, S, hidden]`);
  const [B, S, Din] = x.dims as [number, number, number];
  if (w.dims.length !== 2 || w.dims[0] !== Din) fail('INVALID_GRAPH', `node '${ctx.node}': weights has shape ${dimsText(w.dims)}, expected [${Din}, Dq + Dk + Dv]`);
  const Dtot = w.dims[1]!;
  const sizes = ctx.attrs.ints('qkv_hidden_sizes', [Dtot / 3, Dtot / 3, Dtot / 3]);
  if (sizes.length !== 3 || sizes[0] !== sizes[1] || sizes.some((s) => !Number.isInteger(s) || s <= 0 || s % N !== 0) || sizes[0]! + sizes[1]! + sizes[2]! !== Dtot) {
    fail('INVALID_GRAPH', `node '${ctx.node}': qkv_hidden_sizes ${dimsText(sizes)} must be three positive multiples of num_heads ${N} with Dq == Dk summing to the weights' ${Dtot} columns`);
  }
  const [Dq, , Dv] = sizes as [number, number, number];
  const H = Dq / N, Hv = Dv / N;
  const bias = inputs[BIAS];
  if (bias && (bias.dtype !== x.dtype || bias.dims.length !== 1 || bias.dims[0] !== Dtot)) fail('INVALID_GRAPH', `node '${ctx.node}': bias must be ${x.dtype} [${Dtot}], got ${bias.dtype} ${dimsText(bias.dims)}`);
  const past = inputs[PAST];
  let P = 0;
  if (past) {
    if (Hv !== H) fail('INVALID_GRAPH', `node '${ctx.node}': past needs equal Q/K and V head sizes, got ${H} and ${Hv}`);
    if (past.dtype !== x.dtype || past.dims.length !== 5 || past.dims[0] !== 2 || past.dims[1] !== B || past.dims[2] !== N || past.dims[4] !== H) fail('INVALID_GRAPH', `node '${ctx.node}': past has shape ${dimsText(past.dims)}, expected [2, ${B}, ${N}, P, ${H}]`);
    P = past.dims[3]!;
  }
  const T = P + S;
  const mask = contribMaskKind(inputs[MASK], { B, S, T }, ctx, 'mask_index', true);
  const ab = inputs[ATTN_BIAS];
  if (ab && (ab.dims.length !== 4 || (ab.dims[0] !== B && ab.dims[0] !== 1) || (ab.dims[1] !== N && ab.dims[1] !== 1) || ab.dims[2] !== S || ab.dims[3] !== T)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': attention_bias has shape ${dimsText(ab.dims)}, expected [${B} or 1, ${N} or 1, ${S}, ${T}]`);
  }
  const scaleAttr = ctx.attrs.float('scale', 0);
  const outputs: TensorMeta[] = [{ dtype: x.dtype, dims: [B, S, Dv] }];
  if ((ctx.outputCount ?? 1) > 1) {
    if (Hv !== H) fail('INVALID_GRAPH', `node '${ctx.node}': present needs equal Q/K and V head sizes, got ${H} and ${Hv}`);
    outputs.push({ dtype: x.dtype, dims: [2, B, N, T, H] });
  }
  return {
    B, S, Din, N, Dq, Dv, Dtot, H, Hv, P, T, mask,
    megatronSize: mask === 'megatron' ? inputs[MASK]!.dims[3]! : 0,
    scale: scaleAttr === 0 ? 1 / Math.sqrt(H) : scaleAttr,
    filter: ctx.attrs.float('mask_filter_value', -10000),
    causal: ctx.attrs.int('unidirectional', 0) !== 0,
    outputs,
  };
}

/** input x weights + bias: [B * S, Dtot], in the precision `alloc` gives. */
export function projectQkv(inputs: readonly MaybeTensor[], p: AttentionPlan, alloc: Alloc): Floats {
  const x = toNumbers(inputs[X]!), w = toNumbers(inputs[W]!);
  const bias = inputs[BIAS] ? toNumbers(inputs[BIAS]) : undefined;
  const rows = p.B * p.S;
  const out = alloc(rows * p.Dtot);
  for (let r = 0; r < rows; r++) {
    const o = r * p.Dtot;
    if (bias) for (let j = 0; j < p.Dtot; j++) out[o + j] = bias[j]!;
    for (let i = 0; i < p.Din; i++) {
      const a = x[r * p.Din + i]!;
      const wRow = i * p.Dtot;
      for (let j = 0; j < p.Dtot; j++) out[o + j] += a * w[wRow + j]!;
    }
  }
  return out;
}

export function attentionProblem(inputs: readonly MaybeTensor[], p: AttentionPlan, alloc: Alloc, fast = false): { problem: Problem; present?: Floats } {
  const { B, S, N, P, T, H, Hv } = p;
  const qkv = projectQkv(inputs, p, alloc);
  const past = inputs[PAST] ? toNumbers(inputs[PAST]) : undefined;
  const half = B * N * P * H;
  const pastK = past?.subarray(0, half), pastV = past?.subarray(half);
  const qb = gatherHeads(alloc, { B, heads: N, L: S, hd: H, Tbuf: S }, qkv, bsdLayout(S, p.Dtot, H, 0));
  const kb = gatherHeads(alloc, { B, heads: N, L: S, hd: H, Tbuf: T }, qkv, bsdLayout(S, p.Dtot, H, p.Dq), pastK && { data: pastK, len: P, rowsPerHead: P, at: () => P });
  const vb = gatherHeads(alloc, { B, heads: N, L: S, hd: Hv, Tbuf: T }, qkv, bsdLayout(S, p.Dtot, Hv, 2 * p.Dq), pastV && { data: pastV, len: P, rowsPerHead: P, at: () => P });
  const mask = contribMask(p.mask, inputs[MASK]?.data as Int32Array | undefined, { B, S, T, past: P, megatronSize: p.megatronSize }, p.causal, p.filter);
  const bias = attentionBiasReader(inputs[ATTN_BIAS], N, S, T);
  // the fast path leaves out keys whose weight is exactly 0 (contrib-mask.ts causalSkipEnd)
  const skipEnd = fast ? causalSkipEnd(p.mask, p.causal, S, p.filter, !!inputs[ATTN_BIAS]) : undefined;
  const problem: Problem = {
    B, N, Nkv: N, S, Tbuf: T, H, Hv, q: qb, k: kb, v: vb,
    scale: p.scale, softcap: 0, softcapFirst: false,
    window: skipEnd ? (_b, s) => [0, P + skipEnd(s)] : () => [0, T],
    // with the future skipped, the causal mask adds nothing to the keys left
    add: skipEnd ? undefined : mask || bias ? (b, n, s, t) => (mask ? mask(b, s, t) : 0) + (bias ? bias(b, n, s, t) : 0) : undefined,
  };
  let present: Floats | undefined;
  if (p.outputs.length > 1) {
    present = alloc(kb.length + vb.length);
    present.set(kb);
    present.set(vb, kb.length);
  }
  return { problem, present };
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[] {
  const p = attentionPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { problem, present } = attentionProblem(inputs, p, (n) => new Float64Array(n));
  const out = bnshToBsd(attendReference(problem), p.B, p.N, p.S, p.Hv);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, present ? [out, present] : [out], p.outputs.length);
}

export const attention: OpDefinition = {
  opType: 'Attention',
  domain: 'com.microsoft',
  inferOutputs: (inputs, ctx) => attentionPlan(inputs, ctx).outputs,
  reference,
};
