// A GPT-2-like decoder written with plain ONNX ops, with past state as Optimum exports it:
// input_ids, attention_mask, position_ids, past_key_values.N.key/value -> logits, present.N.key/value
// (or onnxruntime-genai's past_key_N / present_key_N naming). Each layer concatenates past and new
// K/V on the sequence axis, masks by causality and attention_mask, and has a SiLU MLP. Weights are
// seeded random, scaled so that logits differ clearly between tokens. Tests and bench/ use it.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Rng } from './rng-core.ts';

export interface TinyGptConfig {
  readonly vocab: number;
  readonly embed: number;
  readonly heads: number;
  readonly layers: number;
  /** learned positions: the longest sequence the model takes */
  readonly maxPositions: number;
  readonly naming?: 'optimum' | 'genai-split';
  /** 'ids-only': no attention_mask or position_ids inputs; positions follow the past's length */
  readonly inputs?: 'full' | 'ids-only';
  /**
   * 'ops' (default): MatMul/Softmax over Concat(past, new); 'mha': com.microsoft MultiHeadAttention
   * with past_key/past_value (key_padding_mask = attention_mask, unidirectional); 'gqa':
   * com.microsoft GroupQueryAttention with half as many K/V heads, seqlens_k and
   * total_sequence_length derived from attention_mask as onnxruntime-genai exports do; 'stacked':
   * com.microsoft Attention (projection inside the op, mask_index = attention_mask as int32,
   * unidirectional) with ONE stacked cache per layer, past_N [2, batch, heads, past, head size] ->
   * present_N, as onnxruntime's GPT-2 exports. All three need 'full' inputs.
   */
  readonly attention?: 'ops' | 'mha' | 'gqa' | 'stacked';
  /** 'mha' only: the Q/K/V projection bias given to the op as its bias input instead of added before it */
  readonly mhaBias?: boolean;
  /** 'mha' only: packed QKV [B, S, N, 3, H] as the query (no key, value) or packed KV [B, S, N, 2, H] as the key (no value) */
  readonly packed?: 'qkv' | 'kv';
  /**
   * 'mha' or 'gqa': an ALiBi-style attention_bias [B, N, S, T] (-slope_n * distance, -10000 where the
   * key is in the future of position_ids or attention_mask is 0) instead of MHA's key_padding_mask
   */
  readonly attentionBias?: boolean;
  /** attention_mask's element type (default int64); 'float32' as some GPT-2 exports take it (1 attend, 0 not). Not with 'gqa', which sums it as int64. */
  readonly maskType?: 'int64' | 'float32';
}

export function kvName(kind: 'past' | 'present', naming: TinyGptConfig['naming'], layer: number, kv: 'key' | 'value'): string {
  if (naming === 'genai-split') return `${kind}_${kv}_${layer}`;
  return kind === 'past' ? `past_key_values.${layer}.${kv}` : `present.${layer}.${kv}`;
}

/** The model's past inputs, each with the dims of an empty past (batch 1): what a run over the whole sequence feeds. */
export function emptyPastDims(cfg: TinyGptConfig): { name: string; dims: number[] }[] {
  const D = cfg.embed / cfg.heads;
  if (cfg.attention === 'stacked') return Array.from({ length: cfg.layers }, (_, l) => ({ name: `past_${l}`, dims: [2, 1, cfg.heads, 0, D] }));
  const kvHeads = cfg.attention === 'gqa' ? cfg.heads / 2 : cfg.heads;
  return Array.from({ length: cfg.layers }, (_, l) => (['key', 'value'] as const).map((kv) => ({ name: kvName('past', cfg.naming, l, kv), dims: [1, kvHeads, 0, D] }))).flat();
}

export function tinyGpt(cfg: TinyGptConfig, rng: Rng): WriterModel {
  const { vocab, embed: E, heads: H, layers, maxPositions } = cfg;
  const D = E / H;
  const inits: Record<string, AnyTensor> = {};
  const weight = (name: string, dims: number[], scale: number): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    inits[name] = new Tensor('float32', Float32Array.from({ length: n }, () => rng.range(-scale, scale)), dims);
    return name;
  };
  const ints = (name: string, v: number[]): string => {
    inits[name] = new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);
    return name;
  };
  const scalar = (name: string, v: number): string => {
    inits[name] = new Tensor('float32', Float32Array.from([v]), []);
    return name;
  };
  const nodes: WriterNode[] = [];
  const node = (opType: string, inputs: string[], output: string, attrs?: WriterNode['attrs']): string => {
    nodes.push({ opType, inputs, outputs: [output], name: output, ...(attrs ? { attrs } : {}) });
    return output;
  };
  weight('wte', [vocab, E], 1);
  weight('wpe', [maxPositions, E], 0.5);
  ints('to_heads', [1, -1, H, D]);
  ints('to_embed', [1, -1, E]);
  ints('axis0', [0]);
  ints('axis1', [1]);
  ints('axes12', [1, 2]);
  ints('idx1', [1]);
  ints('idx2', [2]);
  ints('one', [1]);
  scalar('scale', 1 / Math.sqrt(D));
  scalar('masked', -1e9);
  // Causal mask from shapes: query i (absolute T - S + i) sees keys j <= T - S + i, and only where attention_mask is 1.
  const S = node('Gather', [node('Shape', ['input_ids'], 'ids_shape'), 'idx1'], 'S', { axis: 0 });
  const idsOnly = cfg.inputs === 'ids-only';
  const Tlen = idsOnly
    ? node('Add', [node('Gather', [node('Shape', [kvName('past', cfg.naming, 0, 'key')], 'past_shape'), 'idx2'], 'P', { axis: 0 }), S], 'T')
    : node('Gather', [node('Shape', ['attention_mask'], 'mask_shape'), 'idx1'], 'T', { axis: 0 });
  const rows = node('Range', [node('Squeeze', [node('Sub', [Tlen, S], 'T_minus_S'), 'axis0'], 'row0'), node('Squeeze', [Tlen, 'axis0'], 'T_scalar'), node('Squeeze', ['one', 'axis0'], 'step')], 'rows');
  const cols = node('Range', [node('Squeeze', [node('Sub', [Tlen, Tlen], 'zero'), 'axis0'], 'zero_scalar'), 'T_scalar', 'step'], 'cols');
  const causal = node('LessOrEqual', [node('Unsqueeze', [cols, 'axis0'], 'cols_row'), node('Unsqueeze', [rows, 'axis1'], 'rows_col')], 'causal');
  const allowed = idsOnly ? causal : node('And', [causal, node('Unsqueeze', [node('Cast', ['attention_mask'], 'mask_bool', { to: 9 }), 'axes12'], 'key_mask')], 'allowed');
  const positions = idsOnly ? node('Unsqueeze', [rows, 'axis0'], 'positions') : 'position_ids';
  const fused = cfg.attention === 'mha' || cfg.attention === 'gqa' || cfg.attention === 'stacked' ? cfg.attention : undefined;
  if (fused && idsOnly) throw new Error('tinyGpt: fused attention needs attention_mask and position_ids');
  if (fused === 'gqa' && cfg.maskType === 'float32') throw new Error('tinyGpt: GQA sums attention_mask as int64');
  const maskI32 = (fused === 'mha' || fused === 'stacked') && !cfg.attentionBias ? node('Cast', ['attention_mask'], 'mask_i32', { to: 6 }) : undefined;
  // onnxruntime-genai's derivation: seqlens_k = sum(mask) - 1, total_sequence_length = mask length
  const seqlens = fused === 'gqa' ? node('Cast', [node('Sub', [node('ReduceSum', ['attention_mask', 'axis1'], 'mask_sum', { keepdims: 0 }), 'one'], 'mask_sum_1')], 'seqlens_k', { to: 6 }) : undefined;
  const totalLen = fused === 'gqa' ? node('Cast', [node('Squeeze', [Tlen, 'axis0'], 'T_total')], 'total_len', { to: 6 }) : undefined;
  if ((cfg.mhaBias || cfg.packed) && fused !== 'mha') throw new Error('tinyGpt: mhaBias and packed are MultiHeadAttention forms');
  if (cfg.attentionBias && (!fused || fused === 'stacked')) throw new Error('tinyGpt: attentionBias needs MultiHeadAttention or GroupQueryAttention');
  // ALiBi-like, from position_ids (not from the mask's length): right however long the mask is
  let attnBias: string | undefined;
  if (cfg.attentionBias) {
    inits['slopes'] = new Tensor('float32', Float32Array.from({ length: H }, (_, n) => 0.5 / 2 ** n), [1, H, 1, 1]);
    scalar('bias_masked', -10000);
    inits['zero_i64'] = new Tensor('int64', BigInt64Array.of(0n), []);
    const dist = node('Sub', [cols, node('Unsqueeze', ['position_ids', ints('axis2', [2])], 'pos_col')], 'key_distance'); // [B, S, T], <= 0 for past keys
    const alibi = node('Mul', [node('Unsqueeze', [node('Cast', [dist], 'key_distance_f', { to: 1 }), 'axis1'], 'key_distance_4d'), 'slopes'], 'alibi');
    const seen = node('And', [node('LessOrEqual', [dist, 'zero_i64'], 'not_future'), node('Unsqueeze', [node('Cast', ['attention_mask'], 'bias_mask_bool', { to: 9 }), 'axis1'], 'bias_key_mask')], 'bias_seen');
    attnBias = node('Where', [node('Unsqueeze', [seen, 'axis1'], 'bias_seen_4d'), alibi, 'bias_masked'], 'attention_bias');
  }
  let x = node('Add', [node('Gather', ['wte', 'input_ids'], 'tok_emb', { axis: 0 }), node('Gather', ['wpe', positions], 'pos_emb', { axis: 0 })], 'x0');
  const presents: string[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `l${l}_`;
    const ln = (name: string, input: string): string => node('LayerNormalization', [input, weight(`${name}_g`, [E], 1.5), weight(`${name}_b`, [E], 0.1)], name, { axis: -1, epsilon: 1e-5 });
    const h = ln(`${p}ln1`, x);
    if (fused === 'stacked') {
      // the same weights in the same draw order as the other forms; the op projects, splits and concatenates itself
      nodes.push({ opType: 'Attention', domain: 'com.microsoft', inputs: [h, weight(`${p}wqkv`, [E, 3 * E], 0.6), weight(`${p}bqkv`, [3 * E], 0.1), maskI32!, `past_${l}`], outputs: [`${p}ctx`, `present_${l}`], name: `${p}attention`, attrs: { num_heads: H, unidirectional: 1 } });
      presents.push(`present_${l}`);
      x = node('Add', [x, node('Add', [node('MatMul', [`${p}ctx`, weight(`${p}wo`, [E, E], 0.4)], `${p}attn_mm`), weight(`${p}bo`, [E], 0.1)], `${p}attn`)], `${p}x1`);
      const m = node('Add', [node('MatMul', [ln(`${p}ln2`, x), weight(`${p}w1`, [E, 2 * E], 0.5)], `${p}fc_mm`), weight(`${p}b1`, [2 * E], 0.1)], `${p}fc`);
      x = node('Add', [x, node('MatMul', [node('Mul', [m, node('Sigmoid', [m], `${p}sig`)], `${p}silu`), weight(`${p}w2`, [2 * E, E], 0.3)], `${p}mlp`)], `${p}x2`);
      continue;
    }
    const projected = node('MatMul', [h, weight(`${p}wqkv`, [E, 3 * E], 0.6)], `${p}qkv_mm`);
    const opBias = fused === 'mha' && cfg.mhaBias;
    const qkv = opBias ? projected : node('Add', [projected, weight(`${p}bqkv`, [3 * E], 0.1)], `${p}qkv`);
    if (opBias) weight(`${p}bqkv`, [3 * E], 0.1); // drawn in the same order as without: the same weights
    nodes.push({ opType: 'Split', inputs: [qkv, ints(`${p}split`, [E, E, E])], outputs: [`${p}q`, `${p}k`, `${p}v`], name: `${p}split`, attrs: { axis: 2 } });
    const heads = (t: string): string => node('Transpose', [node('Reshape', [t, 'to_heads'], `${t}_4d`)], `${t}_heads`, { perm: [0, 2, 1, 3] });
    if (fused) {
      const past = (kv: 'key' | 'value'): string => kvName('past', cfg.naming, l, kv);
      const present = (kv: 'key' | 'value'): string => kvName('present', cfg.naming, l, kv);
      // GQA: K/V are the first E / 2 columns of the k/v projections (half the heads)
      const kvIn = (t: string): string => (fused === 'gqa' ? node('Slice', [t, ints(`${p}kv_start`, [0]), ints(`${p}kv_end`, [E / 2]), ints(`${p}kv_axis`, [2])], `${t}_half`) : t);
      // packed forms: [B, S, N, parts, H] from the same projections (part-major within each head)
      const pack = (parts: string[], tag: string): string => node('Concat', parts.map((t) => node('Reshape', [t, ints(`${p}${t}_to_part`, [0, 0, H, 1, D])], `${t}_part`)), `${p}${tag}_packed`, { axis: 3 });
      const qkvIn = cfg.packed === 'qkv' ? [pack([`${p}q`, `${p}k`, `${p}v`], 'qkv'), '', ''] : cfg.packed === 'kv' ? [`${p}q`, pack([`${p}k`, `${p}v`], 'kv'), ''] : [`${p}q`, `${p}k`, `${p}v`];
      const inputs = fused === 'mha'
        ? [...qkvIn, opBias ? `${p}bqkv` : '', attnBias ? '' : maskI32!, attnBias ?? '', past('key'), past('value')]
        : [`${p}q`, kvIn(`${p}k`), kvIn(`${p}v`), past('key'), past('value'), seqlens!, totalLen!, ...(attnBias ? ['', '', '', attnBias] : [])];
      const attrs: Record<string, number> = fused === 'mha' ? { num_heads: H, unidirectional: attnBias ? 0 : 1 } : { num_heads: H, kv_num_heads: H / 2 };
      nodes.push({ opType: fused === 'mha' ? 'MultiHeadAttention' : 'GroupQueryAttention', domain: 'com.microsoft', inputs, outputs: [`${p}ctx`, present('key'), present('value')], name: `${p}attention`, attrs });
      presents.push(present('key'), present('value'));
      x = node('Add', [x, node('Add', [node('MatMul', [`${p}ctx`, weight(`${p}wo`, [E, E], 0.4)], `${p}attn_mm`), weight(`${p}bo`, [E], 0.1)], `${p}attn`)], `${p}x1`);
      const m = node('Add', [node('MatMul', [ln(`${p}ln2`, x), weight(`${p}w1`, [E, 2 * E], 0.5)], `${p}fc_mm`), weight(`${p}b1`, [2 * E], 0.1)], `${p}fc`);
      x = node('Add', [x, node('MatMul', [node('Mul', [m, node('Sigmoid', [m], `${p}sig`)], `${p}silu`), weight(`${p}w2`, [2 * E, E], 0.3)], `${p}mlp`)], `${p}x2`);
      continue;
    }
    const q = heads(`${p}q`);
    const kNew = heads(`${p}k`);
    const vNew = heads(`${p}v`);
    const k = node('Concat', [kvName('past', cfg.naming, l, 'key'), kNew], kvName('present', cfg.naming, l, 'key'), { axis: 2 });
    const v = node('Concat', [kvName('past', cfg.naming, l, 'value'), vNew], kvName('present', cfg.naming, l, 'value'), { axis: 2 });
    presents.push(k, v);
    const scores = node('Mul', [node('MatMul', [q, node('Transpose', [k], `${p}kT`, { perm: [0, 1, 3, 2] })], `${p}qk`), 'scale'], `${p}scores`);
    const probs = node('Softmax', [node('Where', [allowed, scores, 'masked'], `${p}masked`)], `${p}probs`, { axis: -1 });
    const ctx = node('Reshape', [node('Transpose', [node('MatMul', [probs, v], `${p}ctx_heads`)], `${p}ctx_t`, { perm: [0, 2, 1, 3] }), 'to_embed'], `${p}ctx`);
    x = node('Add', [x, node('Add', [node('MatMul', [ctx, weight(`${p}wo`, [E, E], 0.4)], `${p}attn_mm`), weight(`${p}bo`, [E], 0.1)], `${p}attn`)], `${p}x1`);
    const m = node('Add', [node('MatMul', [ln(`${p}ln2`, x), weight(`${p}w1`, [E, 2 * E], 0.5)], `${p}fc_mm`), weight(`${p}b1`, [2 * E], 0.1)], `${p}fc`);
    const act = node('Mul', [m, node('Sigmoid', [m], `${p}sig`)], `${p}silu`);
    x = node('Add', [x, node('MatMul', [act, weight(`${p}w2`, [2 * E, E], 0.3)], `${p}mlp`)], `${p}x2`);
  }
  const logits = node('MatMul', [node('LayerNormalization', [x, weight('lnf_g', [E], 1), weight('lnf_b', [E], 0.1)], 'lnf', { axis: -1, epsilon: 1e-5 }), weight('head', [E, vocab], 0.8)], 'logits');
  const pastDims = ['batch', cfg.attention === 'gqa' ? H / 2 : H, 'past_sequence', D];
  const stacked = fused === 'stacked';
  const pasts = stacked
    ? Array.from({ length: layers }, (_, l) => ({ name: `past_${l}`, dtype: 'float32' as const, dims: [2, 'batch', H, 'past_sequence', D] }))
    : Array.from({ length: layers }, (_, l) => (['key', 'value'] as const).map((kv) => ({ name: kvName('past', cfg.naming, l, kv), dtype: 'float32' as const, dims: pastDims }))).flat();
  return {
    nodes,
    initializers: inits,
    inputs: [
      { name: 'input_ids', dtype: 'int64', dims: ['batch', 'sequence'] },
      ...(idsOnly ? [] : [{ name: 'attention_mask', dtype: cfg.maskType ?? 'int64', dims: ['batch', 'total_sequence'] }, { name: 'position_ids', dtype: 'int64' as const, dims: ['batch', 'sequence'] }]),
      ...pasts,
    ],
    outputs: [{ name: logits, dtype: 'float32', dims: ['batch', 'sequence', vocab] }, ...presents.map((name) => ({ name, dtype: 'float32' as const, dims: stacked ? [2, 'batch', H, 'total_sequence', D] : ['batch', pastDims[1]!, 'total_sequence', D] }))],
    opsets: fused ? { '': 17, 'com.microsoft': 1 } : { '': 17 },
  };
}
