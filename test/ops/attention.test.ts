// The fused attention ops: every implementation (js fast path, WebGPU flash and decode kernels)
// against the plain reference over the input forms, mask formats and attributes, including the
// ones onnxruntime-web's CPU kernels do not run (packed QKV/KV, Megatron masks, rotary GQA,
// smooth softmax); attention-ort.test.ts ties the reference to onnxruntime-web.
import { runBadInputCases, type BadInputCase } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';
import { testRng } from '../helpers/random.ts';

const f = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-1, 1] });
const h16 = (...dims: number[]): InputSpec => ({ dtype: 'float16', dims, range: [-1, 1] });
const none: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const i32 = (dims: number[], values: number[]): InputSpec => ({ dtype: 'int32', dims, values });
const tol = { rtol: 2e-4, atol: 2e-5 };

const B = 2, S = 6, N = 2, H = 8, D = N * H, P = 4, T = P + S;
const keys = (b: number, t: number, fn: (b: number, t: number) => boolean): number[] =>
  Array.from({ length: b * t }, (_, i) => (fn(Math.floor(i / t), i % t) ? 1 : 0));

const mha = (name: string, inputs: InputSpec[], attrs: OpCase['attrs'] = {}, outputs = 1): OpCase => ({
  name, op: 'MultiHeadAttention', domain: 'com.microsoft', attrs: { num_heads: N, ...attrs }, inputs, outputs, tolerance: tol,
});

const multiHead: OpCase[] = [
  mha('separate Q/K/V, bias, past, present', [f(B, S, D), f(B, S, D), f(B, S, D), f(3 * D), none, none, f(B, N, P, H), f(B, N, P, H)], {}, 3),
  mha('packed QKV [B, S, N, 3, H] with bias', [f(B, S, N, 3, H), none, none, f(3 * D)]),
  mha('packed KV [B, L, N, 2, H], cross lengths', [f(B, S, D), f(B, 9, N, 2, H)]),
  mha('value head size differs', [f(B, S, D), f(B, 7, D), f(B, 7, 3 * N), f(2 * D + 3 * N)]),
  mha('causal with past', [f(B, S, D), f(B, S, D), f(B, S, D), none, none, none, f(B, N, P, H), f(B, N, P, H)], { unidirectional: 1 }, 3),
  mha('1-D key lengths', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([B], [3, 6])]),
  mha('1-D ends and starts', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([2 * B], [5, 6, 1, 2])]),
  mha('2-D key padding mask with past', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([B, T], keys(B, T, (b, t) => t !== b + 2)), none, f(B, N, P, H), f(B, N, P, H)], {}, 3),
  mha('3-D mask, scale, mask_filter_value', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([B, S, S], keys(B * S, S, (r, t) => (r + t) % 3 !== 0))], { scale: { float: 0.2 }, mask_filter_value: { float: -50 } }),
  mha('attention_bias [B, 1, S, T] with causal', [f(B, S, D), f(B, S, D), f(B, S, D), none, none, f(B, 1, S, T), f(B, N, P, H), f(B, N, P, H)], { unidirectional: 1 }, 3),
  mha('decode step: one query row against a past of 300', [f(1, 1, D), f(1, 1, D), f(1, 1, D), f(3 * D), none, none, f(1, N, 300, H), f(1, N, 300, H)], {}, 3),
  mha('decode step against a past of 2000 (16 workgroups split the keys)', [f(1, 1, D), f(1, 1, D), f(1, 1, D), none, none, none, f(1, N, 2000, H), f(1, N, 2000, H)], {}, 3),
  mha('decode step with 1-D key lengths', [f(B, 1, D), f(B, 1, D), f(B, 1, D), none, i32([B], [200, 301]), none, f(B, N, 300, H), f(B, N, 300, H)]),
  mha('long sequence: 520 queries x 520 keys, causal (flash tiling)', [f(1, 520, D), f(1, 520, D), f(1, 520, D)], { unidirectional: 1 }),
  // outputs round to float16: results computed in f32 and f64 may land one f16 ulp (2^-10) apart
  { ...mha('float16 inputs with past (f32 accumulation)', [h16(B, S, D), h16(B, S, D), h16(B, S, D), h16(3 * D), none, none, h16(B, N, P, H), h16(B, N, P, H)], {}, 3), tolerance: { rtol: 2e-3, atol: 1e-3 } },
  mha('long sequence, head size 64', [f(1, 300, 2 * 64), f(1, 300, 2 * 64), f(1, 300, 2 * 64)]),
  // the wasm kernel (kernels/wasm/src/attention.c): head sizes off the vector width (tails), every
  // input form it reads in place, causal, and enough keys for the 4-wide exp plus a tail
  ...[
    mha('wasm: head size 5, value head 3, 7 keys', [f(B, S, 10), f(B, 7, 10), f(B, 7, 2 * 3)]),
    mha('wasm: causal 9 x 9, head size 12, scale', [f(B, 9, 24), f(B, 9, 24), f(B, 9, 24)], { unidirectional: 1, scale: { float: 0.4 } }),
    mha('wasm: packed QKV, head size 9', [f(B, S, N, 3, 9)]),
    mha('wasm: packed KV, 13 keys', [f(B, S, D), f(B, 13, N, 2, H)]),
    mha('wasm: key and value [B, N, L, H], value head 6', [f(B, S, D), f(B, N, 11, H), f(B, N, 11, 6)]),
    mha('wasm: 3 heads of 33, 67 queries x 70 keys', [f(1, 67, 99), f(1, 70, 99), f(1, 70, 99)], { num_heads: 3 }),
  ].map((c): OpCase => ({ ...c, wasmKernel: true })),
];

const Din = 12;
const att = (name: string, inputs: InputSpec[], attrs: OpCase['attrs'] = {}, outputs = 1): OpCase => ({
  name, op: 'Attention', domain: 'com.microsoft', attrs: { num_heads: N, ...attrs }, inputs, outputs, tolerance: tol,
});
const w = (cols: number): InputSpec => ({ dtype: 'float32', dims: [Din, cols], range: [-0.5, 0.5] });
const M = 12;

const contribAttention: OpCase[] = [
  att('plain, bias', [f(B, S, Din), w(3 * D), f(3 * D)]),
  att('no bias, qkv_hidden_sizes with a wider V', [f(B, S, Din), w(4 * D), none], { qkv_hidden_sizes: [D, D, 2 * D] }),
  att('past and present, unidirectional', [f(B, S, Din), w(3 * D), f(3 * D), none, f(2, B, N, P, H)], { unidirectional: 1 }, 2),
  att('1-D ends with past', [f(B, S, Din), w(3 * D), f(3 * D), i32([B], [7, 10]), f(2, B, N, P, H)], {}, 2),
  att('3-D mask', [f(B, S, Din), w(3 * D), f(3 * D), i32([B, S, S], keys(B * S, S, (r, t) => r % S >= t))]),
  att('Megatron 4-D mask with past', [f(B, S, Din), w(3 * D), f(3 * D), i32([B, 1, M, M], keys(B * M, M, (r, t) => t <= r % M)), f(2, B, N, P, H)], {}, 2),
  att('attention_bias and a mask', [f(B, S, Din), w(3 * D), f(3 * D), i32([B, S], keys(B, S, (b, t) => t < 4 + b)), none, f(1, N, S, S)]),
  att('decode step with past 300', [f(1, 1, Din), w(3 * D), f(3 * D), none, f(2, 1, N, 300, H)], { unidirectional: 1 }, 2),
];

const Nq = 4, Nkv = 2, Hg = 8;
const gqa = (name: string, o: { s: number; past: number; total: number; b?: number; attrs?: OpCase['attrs']; extra?: InputSpec[]; packed?: boolean; seqlens?: number[] }): OpCase => {
  const b = o.b ?? B;
  const qkv: InputSpec[] = o.packed
    ? [f(b, o.s, (Nq + 2 * Nkv) * Hg), none, none]
    : [f(b, o.s, Nq * Hg), f(b, o.s, Nkv * Hg), f(b, o.s, Nkv * Hg)];
  const past: InputSpec[] = o.past > 0 ? [f(b, Nkv, o.past, Hg), f(b, Nkv, o.past, Hg)] : [none, none];
  return {
    name, op: 'GroupQueryAttention', domain: 'com.microsoft',
    attrs: { num_heads: Nq, kv_num_heads: Nkv, ...o.attrs },
    inputs: [...qkv, ...past, i32([b], o.seqlens ?? Array.from({ length: b }, () => o.total - 1)), i32([], [o.total]), ...(o.extra ?? [])],
    outputs: 3,
    tolerance: tol,
  };
};
const maxPos = 64;
const caches = (rotaryDim: number): InputSpec[] => [f(maxPos, rotaryDim / 2), f(maxPos, rotaryDim / 2)];

const groupQuery: OpCase[] = [
  gqa('prompt', { s: S, past: 0, total: S }),
  gqa('packed QKV prompt', { s: S, past: 0, total: S, packed: true }),
  gqa('decode with past', { s: 1, past: 9, total: 10 }),
  gqa('decode into a longer shared buffer (present keeps its length)', { s: 1, past: 16, total: 10 }),
  gqa('chunk after a past', { s: 3, past: 6, total: 9, b: 1 }),
  gqa('local window, softcap', { s: S, past: 0, total: S, attrs: { local_window_size: 2, softcap: { float: 1.5 } } }),
  gqa('decode with local window', { s: 1, past: 40, total: 41, attrs: { local_window_size: 8 } }),
  gqa('smooth softmax, scale', { s: S, past: 0, total: S, attrs: { smooth_softmax: 1, scale: { float: 0.7 } } }),
  gqa('decode with smooth softmax', { s: 1, past: 9, total: 10, attrs: { smooth_softmax: 1 } }),
  gqa('rotary, half split', { s: S, past: 0, total: S, attrs: { do_rotary: 1 }, extra: caches(Hg) }),
  gqa('rotary interleaved, partial rotary dim, decode', { s: 1, past: 9, total: 10, attrs: { do_rotary: 1, rotary_interleaved: 1 }, extra: caches(4) }),
  gqa('rotary with position_ids', { s: S, past: 0, total: S, attrs: { do_rotary: 1 }, extra: [...caches(Hg), { dtype: 'int64', dims: [B, S], values: [3, 4, 5, 6, 7, 8, 0, 1, 2, 9, 10, 11] }] }),
  gqa('attention_bias', { s: S, past: 0, total: S, extra: [none, none, none, f(1, Nq, S, S)] }),
  { ...gqa('head_sink (CPU)', { s: S, past: 0, total: S, extra: [none, none, none, none, f(Nq)] }), gpu: false },
  gqa('long prompt 512 (flash tiling over many key tiles)', { s: 512, past: 0, total: 512, b: 1 }),
  gqa('decode, a different length per batch', { s: 1, past: 12, total: 10, seqlens: [9, 4] }),
  gqa('decode, per-batch lengths, rotary, window, softcap, bias', { s: 1, past: 12, total: 13, seqlens: [12, 6], attrs: { do_rotary: 1, local_window_size: 4, softcap: { float: 2 } }, extra: [...caches(Hg), none, f(B, 1, 1, 13)] }),
  gqa('prompt: rotary, smooth softmax, attention_bias per batch and head', { s: 7, past: 0, total: 7, attrs: { do_rotary: 1, smooth_softmax: 1 }, extra: [...caches(4), none, f(B, Nq, 7, 7)] }),
];

// every float32 form runs the wasm kernel (kernels/wasm/src/attention.c: past, bias, present, masks,
// attention_bias through its gather pass and general form); float16 runs js
runOpCases('attention/MultiHeadAttention', multiHead.map((c): OpCase => (c.name.startsWith('float16') ? c : { ...c, wasmKernel: true })));
// ONNX Attention (opset 23) on the wasm kernel: 4-D and 3-D, grouped K/V heads, causal with more
// and with fewer keys than queries, head sizes off the vector width
/** A float attn_mask fed at run time: value(s, t, b, n) per query s and key t. */
const additive = (dims: [number, number, number, number], value: (s: number, t: number, b: number, n: number) => number): InputSpec => {
  const [db, dn, ds, dt] = dims;
  const values = Array.from({ length: db * dn * ds * dt }, (_, i) => value(Math.floor(i / dt) % ds, i % dt, Math.floor(i / (dn * ds * dt)), Math.floor(i / (ds * dt)) % dn));
  return { dtype: 'float32', dims, values, feed: true };
};
const onnxAtt = (name: string, inputs: InputSpec[], attrs: OpCase['attrs'] = {}): OpCase => ({
  name, op: 'Attention', opset: 23, attrs, inputs, outputs: 1, tolerance: tol, wasmKernel: true,
});
const onnxAttention: OpCase[] = [
  onnxAtt('wasm: 4-D, head size 5, value head 3, 7 keys', [f(B, N, S, 5), f(B, N, 7, 5), f(B, N, 7, 3)]),
  onnxAtt('wasm: 3-D, 4 query heads on 2 K/V heads, causal with 9 keys', [f(B, S, 4 * 8), f(B, 9, 2 * 8), f(B, 9, 2 * 6)], { q_num_heads: 4, kv_num_heads: 2, is_causal: 1 }),
  onnxAtt('wasm: 4-D causal, fewer keys than queries, scale', [f(1, 2, 9, 8), f(1, 2, 5, 8), f(1, 2, 5, 8)], { is_causal: 1, scale: { float: 0.3 } }),
  onnxAtt('wasm: 4-D, 6 query heads on 3 K/V heads, 70 keys', [f(1, 6, 33, 16), f(1, 3, 70, 16), f(1, 3, 70, 16)]),
  // an additive float mask (the exported GPT's causal -1e9): the kernel never scores keys at either
  // end whose bias puts their weight at exactly 0 (attention.c trim_keys); -inf, left padding and a
  // mask too shallow to cut must give the reference's answer too
  onnxAtt('wasm: causal -1e9 float mask, head size 16, 37 queries', [f(1, 4, 37, 16), f(1, 4, 37, 16), f(1, 4, 37, 16), additive([1, 1, 37, 37], (s, t) => (t > s ? -1e9 : 0))]),
  onnxAtt('wasm: causal -inf mask with 2 left-padded keys per batch 1, head size 8', [f(B, N, 13, 8), f(B, N, 13, 8), f(B, N, 13, 8), additive([B, 1, 13, 13], (s, t, b) => (t > s || (b === 1 && t < 2) ? -Infinity : 0))]),
  onnxAtt('wasm: causal -1e9 mask, head size 5 (scalar scores), 11 queries', [f(1, 2, 11, 5), f(1, 2, 11, 5), f(1, 2, 11, 3), additive([1, 1, 11, 11], (s, t) => (t > s ? -1e9 : 0.25 * t))]),
  onnxAtt('wasm: causal -1e9 mask, head size 64, 21 queries on 24 keys', [f(1, 2, 21, 64), f(1, 2, 24, 64), f(1, 2, 24, 64), additive([1, 2, 21, 24], (s, t) => (t > s + 3 ? -1e9 : 0.5))]),
  // scores of +-100s (scale 20, head size 64): a -120 bias leaves future keys a real weight
  onnxAtt('wasm: a -120 future mask against scores of +-100s is not cut', [f(1, 1, 19, 64), f(1, 1, 19, 64), f(1, 1, 19, 64), additive([1, 1, 19, 19], (s, t) => (t > s ? -120 : 0))], { scale: { float: 20 } }),
];
runOpCases('attention/ONNX Attention', onnxAttention);
runOpCases('attention/Attention', contribAttention);
// the wasm lowering of com.microsoft Attention needs constant weights (packed once for its GEMM)
const constant = (name: string, ...dims: number[]): InputSpec => {
  const rng = testRng(import.meta.url, name);
  return { dtype: 'float32', dims, values: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.range(-0.5, 0.5)) };
};
runOpCases('attention/Attention wasm', [
  att('wasm: constant weights and bias', [f(B, S, Din), constant('w1', Din, 3 * D), constant('b1', 3 * D)]),
  att('wasm: constant weights, no bias, wider V, causal', [f(B, S, Din), constant('w2', Din, 4 * D), none], { qkv_hidden_sizes: [D, D, 2 * D], unidirectional: 1 }),
  att('wasm: 3 heads of 5, 7 inputs, 11 rows', [f(1, 11, 7), constant('w3', 7, 45), constant('b3', 45)], { num_heads: 3 }),
  att('wasm: past and present, unidirectional', [f(B, S, Din), constant('w4', Din, 3 * D), constant('b4', 3 * D), none, f(2, B, N, P, H)], { unidirectional: 1 }, 2),
  att('wasm: 1-D ends with past', [f(B, S, Din), constant('w5', Din, 3 * D), constant('b5', 3 * D), i32([B], [7, 10]), f(2, B, N, P, H)], {}, 2),
  att('wasm: 1-D ends and starts', [f(B, S, Din), constant('w6', Din, 3 * D), none, i32([2 * B], [5, 6, 1, 0])]),
  att('wasm: 3-D mask', [f(B, S, Din), constant('w7', Din, 3 * D), constant('b7', 3 * D), i32([B, S, S], keys(B * S, S, (r, t) => r % S >= t))]),
  att('wasm: attention_bias and a 2-D mask, present', [f(B, S, Din), constant('w8', Din, 3 * D), constant('b8', 3 * D), i32([B, S], keys(B, S, (b, t) => t < 4 + b)), none, f(1, N, S, S)], {}, 2),
  att('wasm: decode step with past 300, causal', [f(1, 1, Din), constant('w9', Din, 3 * D), constant('b9', 3 * D), none, f(2, 1, N, 300, H)], { unidirectional: 1 }, 2),
].map((c): OpCase => ({ ...c, wasmKernel: true })));
// position_ids are int64, which the wasm arena does not hold: that case runs js
runOpCases('attention/GroupQueryAttention', groupQuery.map((c): OpCase => (c.name.includes('position_ids') ? c : { ...c, wasmKernel: true })));

const bad = (c: OpCase, error: RegExp): BadInputCase => ({ ...c, error });
runBadInputCases('attention', [
  bad(mha('key width differs from query', [f(B, S, D), f(B, S, D + 1), f(B, S, D)]), /key has shape \[2, 6, 17\], expected \[2, L, 16\]/),
  bad(mha('key padding mask of the wrong length', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([3], [1, 2, 3])]), /key_padding_mask has shape \[3\]/),
  bad(mha('cumulative-lengths mask [3B + 2]', [f(B, S, D), f(B, S, D), f(B, S, D), none, i32([3 * B + 2], [0, 1, 2, 3, 4, 5, 6, 7])]), /3 \* batch \+ 2/),
  bad(mha('attention_bias of the wrong length', [f(B, S, D), f(B, S, D), f(B, S, D), none, none, f(B, N, S, S + 1)]), /attention_bias has shape/),
  bad(att('do_rotary refused at load', [f(B, S, Din), w(3 * D), f(3 * D)], { do_rotary: 1 }), /do_rotary=1 is not supported/),
  bad(att('qkv_hidden_sizes that do not sum to the weights', [f(B, S, Din), w(3 * D), f(3 * D)], { qkv_hidden_sizes: [D, D, D / 2] }), /qkv_hidden_sizes/),
  bad(gqa('kv heads that do not divide q heads', { s: S, past: 0, total: S, attrs: { kv_num_heads: 3 } }), /multiple of kv_num_heads/),
  bad(gqa('total_sequence_length below the sequence length', { s: S, past: 0, total: S - 2 }), /total_sequence_length 4 is less than the sequence length 6/),
  bad(gqa('do_rotary without caches', { s: S, past: 0, total: S, attrs: { do_rotary: 1 } }), /cos_cache and sin_cache/),
]);
