import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, OpDefinition, TensorMeta } from '../contract.ts';

/*
 * LinearAttention (opset 27): recurrent linear attention over packed [B, T, H * D] inputs, one state
 * S (d_k x d_v) per KV head, carried in past_state / present_state (B, H_kv, d_k, d_v). Per step t,
 * with g = decay[t] (log space, per key row or per head) and beta = beta[t] (per head or shared):
 *   linear:      S = S + k v^T
 *   gated:       S = exp(g) S + k v^T
 *   delta:       S = S + k (beta (v - S^T k))^T
 *   gated_delta: S' = exp(g) S;  S = S' + k (beta (v - S'^T k))^T     (the default)
 *   output_t = scale * S^T q for every query head, read from the state of its KV head
 *   (query head h uses KV head floor(h / (H_q / H_kv))); scale defaults to 1 / sqrt(d_k).
 * This is the op's ONNX function body (a Scan over t, the state kept in float32, exp(g) scaling the
 * rows of S). Inputs the rule does not use (decay for linear/delta, beta for linear/gated) are ignored,
 * as the function body ignores them.
 */

export const UPDATE_RULES = ['linear', 'gated', 'delta', 'gated_delta'] as const;
export type UpdateRule = (typeof UPDATE_RULES)[number];

export interface LinearAttentionPlan {
  readonly out: TensorMeta;
  readonly present: TensorMeta;
  readonly batch: number;
  readonly seq: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dk: number;
  readonly dv: number;
  readonly rule: UpdateRule;
  readonly scale: number;
  readonly gated: boolean;
  readonly delta: boolean;
  /** decay values per step and KV head: d_k (one per state row) or 1 (one per head) */
  readonly decayWidth: number;
  /** beta values per step: H_kv (one per head) or 1 (shared) */
  readonly betaHeads: number;
  readonly hasPast: boolean;
}

const dimsText = (m: TensorMeta): string => `[${m.dims.join(', ')}]`;

export function linearAttentionPlan(inputs: readonly MaybeMeta[], ctx: KernelContext): LinearAttentionPlan {
  const at = `node '${ctx.node}'`;
  const q = requireInput(inputs, 0, ctx);
  const k = requireInput(inputs, 1, ctx);
  const v = requireInput(inputs, 2, ctx);
  requireType(q, FLOAT_TYPES, ctx, 'query');
  requireType(k, [q.dtype], ctx, 'key');
  requireType(v, [q.dtype], ctx, 'value');
  const qHeads = ctx.attrs.int('q_num_heads', 0);
  const kvHeads = ctx.attrs.int('kv_num_heads', 0);
  if (qHeads <= 0 || kvHeads <= 0) fail('INVALID_GRAPH', `${at}: q_num_heads and kv_num_heads are required and must be positive, got ${qHeads} and ${kvHeads}`);
  if (qHeads % kvHeads !== 0) fail('INVALID_GRAPH', `${at}: q_num_heads ${qHeads} must be a multiple of kv_num_heads ${kvHeads}`);
  for (const [m, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
    if (m.dims.length !== 3) fail('INVALID_GRAPH', `${at}: ${name} must be 3-D (batch, sequence, heads * head_size), got ${dimsText(m)}`);
  }
  const [batch, seq] = q.dims as [number, number];
  for (const [m, name] of [[k, 'key'], [v, 'value']] as const) {
    if (m.dims[0] !== batch || m.dims[1] !== seq) fail('INVALID_GRAPH', `${at}: ${name} ${dimsText(m)} must have the batch and sequence of query ${dimsText(q)}`);
  }
  const dk = q.dims[2]! / qHeads;
  if (!Number.isInteger(dk) || dk === 0) fail('INVALID_GRAPH', `${at}: query width ${q.dims[2]} does not split into ${qHeads} heads`);
  if (k.dims[2] !== kvHeads * dk) fail('INVALID_GRAPH', `${at}: key width ${k.dims[2]} must be kv_num_heads * d_k = ${kvHeads} * ${dk}`);
  const dv = v.dims[2]! / kvHeads;
  if (!Number.isInteger(dv) || dv === 0) fail('INVALID_GRAPH', `${at}: value width ${v.dims[2]} does not split into ${kvHeads} heads`);
  const rule = ctx.attrs.string('update_rule', 'gated_delta') as UpdateRule;
  if (!UPDATE_RULES.includes(rule)) fail('INVALID_GRAPH', `${at}: update_rule '${rule}' is not one of ${UPDATE_RULES.join(', ')}`);
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  const stateDims = [batch, kvHeads, dk, dv];
  const past = inputs[3];
  if (past) {
    requireType(past, FLOAT_TYPES, ctx, 'past_state');
    if (past.dims.length !== 4 || past.dims.some((d, i) => d !== stateDims[i])) fail('INVALID_GRAPH', `${at}: past_state must be (${stateDims.join(', ')}), got ${dimsText(past)}`);
  }
  let decayWidth = 0;
  if (gated) {
    const decay = inputs[4];
    if (!decay) fail('INVALID_GRAPH', `${at}: update_rule '${rule}' needs the decay input`);
    requireType(decay, [q.dtype], ctx, 'decay');
    decayWidth = decay.dims[2] === kvHeads * dk ? dk : 1;
    if (decay.dims.length !== 3 || decay.dims[0] !== batch || decay.dims[1] !== seq || decay.dims[2] !== kvHeads * decayWidth) {
      fail('INVALID_GRAPH', `${at}: decay must be (${batch}, ${seq}, ${kvHeads * dk}) or (${batch}, ${seq}, ${kvHeads}), got ${dimsText(decay)}`);
    }
  }
  let betaHeads = 0;
  if (delta) {
    const beta = inputs[5];
    if (!beta) fail('INVALID_GRAPH', `${at}: update_rule '${rule}' needs the beta input`);
    requireType(beta, [q.dtype], ctx, 'beta');
    betaHeads = beta.dims[2] === kvHeads ? kvHeads : 1;
    if (beta.dims.length !== 3 || beta.dims[0] !== batch || beta.dims[1] !== seq || beta.dims[2] !== betaHeads) {
      fail('INVALID_GRAPH', `${at}: beta must be (${batch}, ${seq}, ${kvHeads}) or (${batch}, ${seq}, 1), got ${dimsText(beta)}`);
    }
  }
  return {
    out: { dtype: q.dtype, dims: [batch, seq, qHeads * dv] },
    present: { dtype: past ? past.dtype : q.dtype, dims: stateDims },
    batch, seq, qHeads, kvHeads, dk, dv, rule,
    scale: ctx.attrs.float('scale') ?? 1 / Math.sqrt(dk),
    gated, delta, decayWidth, betaHeads,
    hasPast: past !== undefined,
  };
}

/** Declared outputs: output, and present_state unless the node leaves it out. */
export function linearAttentionOutputs(p: LinearAttentionPlan, ctx: KernelContext): TensorMeta[] {
  return [p.out, p.present].slice(0, Math.max(1, Math.min(2, ctx.outputCount ?? 2)));
}

function reference(inputs: readonly MaybeTensor[], ctx: KernelContext) {
  const p = linearAttentionPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch: B, seq: T, qHeads: Hq, kvHeads: Hkv, dk, dv } = p;
  const group = Hq / Hkv;
  const [q, k, v] = [toNumbers(inputs[0]!), toNumbers(inputs[1]!), toNumbers(inputs[2]!)];
  const decay = p.gated ? toNumbers(inputs[4]!) : undefined;
  const beta = p.delta ? toNumbers(inputs[5]!) : undefined;
  const state = inputs[3] ? toNumbers(inputs[3]) : new Float64Array(B * Hkv * dk * dv);
  const out = new Float64Array(B * T * Hq * dv);
  const S = (b: number, h: number, i: number, j: number): number => ((b * Hkv + h) * dk + i) * dv + j;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      for (let h = 0; h < Hkv; h++) {
        const key = (i: number): number => k[(bt * Hkv + h) * dk + i]!;
        const val = (j: number): number => v[(bt * Hkv + h) * dv + j]!;
        if (decay) {
          for (let i = 0; i < dk; i++) {
            const g = Math.exp(decay[(bt * Hkv + h) * p.decayWidth + (p.decayWidth === 1 ? 0 : i)]!);
            for (let j = 0; j < dv; j++) state[S(b, h, i, j)]! *= g;
          }
        }
        // what is written: v (linear, gated), or beta (v - S^T k) (delta rules), as a row added to k's outer product
        const write = new Float64Array(dv);
        for (let j = 0; j < dv; j++) {
          if (!beta) { write[j] = val(j); continue; }
          let retrieved = 0;
          for (let i = 0; i < dk; i++) retrieved += state[S(b, h, i, j)]! * key(i);
          write[j] = beta[bt * p.betaHeads + (p.betaHeads === 1 ? 0 : h)]! * (val(j) - retrieved);
        }
        for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) state[S(b, h, i, j)]! += key(i) * write[j]!;
      }
      for (let qh = 0; qh < Hq; qh++) {
        const h = Math.floor(qh / group);
        for (let j = 0; j < dv; j++) {
          let acc = 0;
          for (let i = 0; i < dk; i++) acc += q[(bt * Hq + qh) * dk + i]! * state[S(b, h, i, j)]!;
          out[(bt * Hq + qh) * dv + j] = p.scale * acc;
        }
      }
    }
  }
  return [fromNumbers(p.out.dtype, p.out.dims, out), fromNumbers(p.present.dtype, p.present.dims, state)].slice(0, linearAttentionOutputs(p, ctx).length);
}

export const definitions: readonly OpDefinition[] = [
  { opType: 'LinearAttention', inferOutputs: (inputs, ctx) => linearAttentionOutputs(linearAttentionPlan(inputs, ctx), ctx), reference },
];
