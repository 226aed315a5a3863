import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { packedBBytes, type WasmExport, type WasmKernel, type WasmStep } from '../wasm/contract.ts';
import * as contrib from './attention-op.ts';
import { causalSkipEnd } from './contrib-mask.ts';
import type { HeadLayout } from './core.ts';
import * as mha from './multi-head-op.ts';
import * as onnx from './onnx-attention-op.ts';

// Attention in wasm (kernels/wasm/src/attention.c): one query row at a time, Q/K/V read in place
// through their head layouts. The lowerings below take the forms that need no gather, mask or
// cache; anything else returns undefined and runs the js kernel.

interface Spec {
  readonly B: number;
  readonly N: number;
  /** query heads per K/V head */
  readonly group: number;
  readonly S: number;
  readonly T: number;
  readonly H: number;
  readonly Hv: number;
  readonly causal: boolean;
  readonly scale: number;
  readonly q: HeadLayout;
  readonly k: HeadLayout;
  readonly v: HeadLayout;
  /** output element (b, n, s, h) at b * sb + s * sl + n * sn + h */
  readonly out: { readonly sb: number; readonly sl: number; readonly sn: number };
  /** input slots holding Q, K and V (packed forms read K and V out of another input) */
  readonly slots: readonly [number, number, number];
}

const bsdOut = (S: number, N: number, Hv: number): Spec['out'] => ({ sb: S * N * Hv, sl: N * Hv, sn: Hv });
const bnshOut = (S: number, N: number, Hv: number): Spec['out'] => ({ sb: N * S * Hv, sl: Hv, sn: S * Hv });

const descriptor = (p: Spec): Int32Array => {
  const layout = (l: HeadLayout): number[] => [l.base, l.sb, l.sl, l.sn];
  return Int32Array.from([p.B, p.N, p.S, p.T, p.H, p.Hv, p.causal ? 1 : 0, p.group, ...layout(p.q), ...layout(p.k), ...layout(p.v), p.out.sb, p.out.sl, p.out.sn]);
};

function attentionStep(p: Spec): WasmStep {
  const desc = descriptor(p);
  const [qs, ks, vs] = p.slots;
  let f: WasmExport | undefined;
  return {
    reads: [...new Set(p.slots)],
    scratchBytes: Math.max(1, p.T) * 4,
    persistentBytes: [desc.byteLength],
    prepare(k, at) {
      f = k.fn('kiln_attention_f32');
      new Int32Array(k.memory.buffer, at.persistent[0]!, desc.length).set(desc);
    },
    run(k, at) {
      f ??= k.fn('kiln_attention_f32');
      f(at.inputs[qs]!, at.inputs[ks]!, at.inputs[vs]!, at.outputs[0]!, at.scratch, at.persistent[0]!, p.scale);
    },
  };
}

/**
 * com.microsoft MultiHeadAttention: float32, one output (no present_key / present_value), no bias,
 * key_padding_mask, attention_bias or past; causal only where the js fast path drops the masked
 * keys exactly (contrib-mask.ts causalSkipEnd: every key stays in the softmax with
 * mask_filter_value, whose weight underflows to 0) and the key length equals the query length.
 */
const multiHead: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[mha.Q]?.dtype !== 'float32' || outputs.length !== 1) return undefined;
  if (inputs[mha.BIAS] || inputs[mha.MASK] || inputs[mha.ATTN_BIAS] || inputs[mha.PAST_K] || inputs[mha.PAST_V]) return undefined;
  const p = mha.mhaPlan(inputs, ctx);
  if (p.P !== 0 || p.mask !== 'none') return undefined;
  if (p.causal && (p.T !== p.S || !causalSkipEnd(p.mask, p.causal, p.S, p.filter, false))) return undefined;
  const kSlot = p.form === 'packed-qkv' ? mha.Q : mha.K;
  const vSlot = p.form === 'packed-qkv' ? mha.Q : p.form === 'packed-kv' ? mha.K : mha.V;
  return attentionStep({ ...p, group: 1, out: bsdOut(p.S, p.N, p.Hv), slots: [mha.Q, kSlot, vSlot] });
};

/**
 * ONNX Attention (opset 23): float32, Y only, no attn_mask, past or nonpad_kv_seqlen, no softcap.
 * is_causal drops keys t > s (no past: the offset is 0), which is the window the kernel takes.
 * Grouped K/V heads (kv_num_heads < q_num_heads) read K/V head n / group.
 */
const onnxAttention: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[onnx.Q]?.dtype !== 'float32' || outputs.length !== 1) return undefined;
  if (inputs[onnx.MASK] || inputs[onnx.PAST_K] || inputs[onnx.PAST_V] || inputs[onnx.NONPAD]) return undefined;
  const p = onnx.onnxAttentionPlan(inputs, ctx);
  if (p.P !== 0 || p.softcap !== 0 || p.N % p.Nkv !== 0) return undefined;
  const out = p.rank === 3 ? bsdOut(p.S, p.N, p.Hv) : bnshOut(p.S, p.N, p.Hv);
  return attentionStep({ ...p, group: p.N / p.Nkv, out, slots: [onnx.Q, onnx.K, onnx.V] });
};

/**
 * com.microsoft Attention (BERT-style, the QKV projection inside the op): the projection is the
 * wasm GEMM (weights and bias packed once) into scratch [B * S, Dq + Dk + Dv], then the attention
 * kernel reads Q, K and V out of it in place. float32, constant weights (and bias), one output, no
 * mask_index, past or attention_bias; causal as for MultiHeadAttention.
 */
const contribAttention: WasmKernel = (inputs, outputs, ctx) => {
  if (inputs[contrib.X]?.dtype !== 'float32' || outputs.length !== 1) return undefined;
  if (inputs[contrib.MASK] || inputs[contrib.PAST] || inputs[contrib.ATTN_BIAS]) return undefined;
  const w = ctx.constants[contrib.W];
  const bias = inputs[contrib.BIAS] ? ctx.constants[contrib.BIAS] : undefined;
  if (!w || (inputs[contrib.BIAS] && !bias)) return undefined;
  const p = contrib.attentionPlan(inputs, ctx);
  if (p.P !== 0 || p.mask !== 'none' || p.Din < 1 || p.B * p.S === 0) return undefined;
  if (p.causal && (p.T !== p.S || !causalSkipEnd(p.mask, p.causal, p.S, p.filter, false))) return undefined;
  const { B, S, N, Din, Dq, Dtot } = p;
  const rows = B * S;
  const head = (base: number, hd: number): HeadLayout => ({ base, sb: S * Dtot, sl: Dtot, sn: hd });
  const desc = descriptor({ ...p, group: 1, q: head(0, p.H), k: head(Dq, p.H), v: head(2 * Dq, p.Hv), out: bsdOut(S, N, p.Hv), slots: [0, 0, 0] });
  const qkvBytes = rows * Dtot * 4;
  let f: WasmExport | undefined;
  return {
    reads: [contrib.X],
    scratchBytes: qkvBytes + Math.max(1, p.T) * 4,
    persistentBytes: [packedBBytes(Din, Dtot), desc.byteLength],
    prepare(k, at) {
      f = k.fn('kiln_attention_f32');
      k.packBF32({ b: at.stage(w), ldb: Dtot, k: Din, n: Dtot, bias: bias && at.stage(bias), out: at.persistent[0]! });
      new Int32Array(k.memory.buffer, at.persistent[1]!, desc.length).set(desc);
    },
    run(k, at) {
      f ??= k.fn('kiln_attention_f32');
      k.gemmF32({ a: at.inputs[contrib.X]!, lda: Din, bPacked: at.persistent[0]!, c: at.scratch, ldc: Dtot, m: rows, n: Dtot, k: Din });
      f(at.scratch, at.scratch, at.scratch, at.outputs[0]!, at.scratch + qkvBytes, at.persistent[1]!, p.scale);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('com.microsoft', 'MultiHeadAttention')]: multiHead,
  [opKey('', 'Attention')]: onnxAttention,
  [opKey('com.microsoft', 'Attention')]: contribAttention,
};
