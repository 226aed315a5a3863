// The trained GPT as an ONNX decoder with past key values, in the input/output names Optimum's
// decoder exports use (so generate(), onnxruntime-web and transformers.js-style loops read it):
//   inputs  input_ids [batch, seq] int64, attention_mask [batch, past + seq] int64,
//           position_ids [batch, seq] int64, past_key_values.{i}.key / .value [batch, heads, past, head_dim]
//   outputs logits [batch, seq, vocab], present.{i}.key / .value [batch, heads, past + seq, head_dim]
// Plain ONNX ops only (opset 17 LayerNormalization; 21 when int4 weights are present). Quantized
// models keep their dense weights packed behind DequantizeLinear (int8 per output column, int4 in
// blocks along k) and the embedding tables as int8 rows.
// A key is visible to a query when its index in the concatenated sequence (past + new) is not
// after the query's own index there, and its attention_mask entry is 1 (Hugging Face's rule). So a
// cache whose entries are right-aligned in a fixed window, empty slots masked by attention_mask
// (generate()'s window), decodes what a full recompute does; position_ids only place the tokens.
// (The first export compared the cache index with the position id, which hides right-aligned
// entries from early positions.)
import * as tf from '@tensorflow/tfjs';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { quantizeWeight } from '../train/fake-quant.ts';
import { EMBEDDING_SCHEME, GELU_A, GELU_C, LN_EPSILON, type Gpt, type LayerNormParams } from '../train/gpt/gpt-model.ts';
import { fresh, weightInput, type Builder } from './onnx-graph.ts';

export const GPT_INPUTS = { ids: 'input_ids', mask: 'attention_mask', positions: 'position_ids' } as const;
export const pastName = (layer: number, kv: 'key' | 'value'): string => `past_key_values.${layer}.${kv}`;
export const presentName = (layer: number, kv: 'key' | 'value'): string => `present.${layer}.${kv}`;

const f32 = (v: number): AnyTensor => new Tensor('float32', Float32Array.of(v), []);
const i64 = (v: readonly number[], dims: readonly number[] = [v.length]): AnyTensor => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims);

export function gptToOnnx(g: Gpt, opts: { quantized: boolean; producer?: string }): WriterModel {
  const b: Builder = { nodes: [], inits: new Map(), n: 0 };
  const { dModel: d, heads, vocabSize: v, layers } = g.config;
  const dh = d / heads;
  const node = (opType: string, inputs: string[], base: string, attrs?: WriterNode['attrs']): string => {
    const out = fresh(b, base);
    b.nodes.push({ opType, name: out, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  };
  const init = (name: string, t: AnyTensor): string => (b.inits.set(name, t), name);
  const vec = (name: string, t: tf.Tensor): string => init(name, new Tensor('float32', Float32Array.from(t.dataSync()), t.shape));

  const table = (name: string, w: tf.Variable): string => {
    if (!opts.quantized) return vec(name, w);
    // int8 rows: one symmetric scale per row, the values QAT's forward pass used (gpt-model.ts)
    const [rows, cols] = w.shape as [number, number];
    const rowsLast = tf.transpose(w); // [cols, rows]: per-channel over the last axis = per row of w
    const { q: qt, scale: st, dequantized } = quantizeWeight(rowsLast, EMBEDDING_SCHEME);
    const qRows = tf.transpose(qt);
    const q = Int8Array.from(qRows.dataSync());
    const scale = Float32Array.from(st.dataSync());
    tf.dispose([rowsLast, qt, st, dequantized, qRows]);
    init(`${name}.q`, new Tensor('int8', q, [rows, cols]));
    init(`${name}.scale`, new Tensor('float32', scale, [rows]));
    b.nodes.push({ opType: 'DequantizeLinear', name: `${name}.dequantize`, inputs: [`${name}.q`, `${name}.scale`], outputs: [name], attrs: { axis: 0 } });
    return name;
  };
  const layerNorm = (x: string, p: LayerNormParams, name: string): string =>
    node('LayerNormalization', [x, vec(`${name}.gamma`, p.gamma), vec(`${name}.beta`, p.beta)], name, { axis: -1, epsilon: LN_EPSILON });
  const linear = (x: string, l: Gpt['head']): string => node('Add', [node('MatMul', [x, weightInput(b, l, opts.quantized)], `${l.name}.matmul`), vec(`${l.name}.bias`, l.b)], l.name);

  // embeddings
  const ids = GPT_INPUTS.ids;
  const positions = GPT_INPUTS.positions;
  let h = node('Add', [node('Gather', [table('wte', g.tokenEmbedding), ids], 'wte.gather'), node('Gather', [table('wpe', g.positionEmbedding), positions], 'wpe.gather')], 'embed');

  // additive attention bias [batch, 1, seq, past + seq]: -1e9 where a key is in the future or masked out
  const total = node('Gather', [node('Shape', [GPT_INPUTS.mask], 'mask.shape'), init('one.index', i64([1], []))], 'total_len');
  const one = init('one.i64', i64([1], []));
  const keyIndex = node('Range', [init('zero.i64', i64([0], [])), total, one], 'key_index');
  // the new tokens are the last `seq` of the concatenated sequence: query i sits at total - seq + i
  const seq = node('Gather', [node('Shape', [ids], 'ids.shape'), init('one.index.q', i64([1], []))], 'seq_len');
  const queryIndex = node('Range', [node('Sub', [total, seq], 'past_len'), total, one], 'query_index');
  const future = node('Greater', [node('Unsqueeze', [keyIndex, init('axes.0', i64([0]))], 'key_index.row'), node('Unsqueeze', [queryIndex, init('axes.1q', i64([1]))], 'query_index.col')], 'future');
  const padded = node('Unsqueeze', [node('Equal', [GPT_INPUTS.mask, init('zero.mask', i64([0], []))], 'padded.keys'), init('axes.1', i64([1]))], 'padded');
  const hidden = node('Unsqueeze', [node('Or', [future, padded], 'hidden.keys'), init('axes.1b', i64([1]))], 'hidden');
  const bias = node('Where', [hidden, init('neg.inf', f32(-1e9)), init('zero.f32', f32(0))], 'attn_bias');

  const headsShape = init('shape.heads', i64([0, 0, heads, dh]));
  const modelShape = init('shape.model', i64([0, 0, d]));
  const splitSizes = init('split.qkv', i64([d, d, d]));
  const scale = init('attn.scale', f32(1 / Math.sqrt(dh)));
  g.blocks.forEach((blk, i) => {
    const qkv = linear(layerNorm(h, blk.ln1, `h${i}.ln1`), blk.qkv);
    const parts = [fresh(b, `h${i}.q`), fresh(b, `h${i}.k`), fresh(b, `h${i}.v`)];
    b.nodes.push({ opType: 'Split', name: `h${i}.split`, inputs: [qkv, splitSizes], outputs: parts, attrs: { axis: 2 } });
    const [q, k, vv] = parts.map((p) => node('Transpose', [node('Reshape', [p, headsShape], `${p}.heads`)], `${p}.bhsd`, { perm: [0, 2, 1, 3] })) as [string, string, string];
    const keys = presentName(i, 'key');
    const values = presentName(i, 'value');
    b.nodes.push({ opType: 'Concat', name: `h${i}.keys`, inputs: [pastName(i, 'key'), k], outputs: [keys], attrs: { axis: 2 } });
    b.nodes.push({ opType: 'Concat', name: `h${i}.values`, inputs: [pastName(i, 'value'), vv], outputs: [values], attrs: { axis: 2 } });
    const scores = node('Add', [node('Mul', [node('MatMul', [q, node('Transpose', [keys], `h${i}.keys_t`, { perm: [0, 1, 3, 2] })], `h${i}.qk`), scale], `h${i}.scaled`), bias], `h${i}.scores`);
    const attended = node('MatMul', [node('Softmax', [scores], `h${i}.probs`, { axis: -1 }), values], `h${i}.attended`);
    const merged = node('Reshape', [node('Transpose', [attended], `h${i}.bshd`, { perm: [0, 2, 1, 3] }), modelShape], `h${i}.merged`);
    h = node('Add', [h, linear(merged, blk.proj)], `h${i}.residual1`);
    const fc = linear(layerNorm(h, blk.ln2, `h${i}.ln2`), blk.fc);
    h = node('Add', [h, linear(gelu(fc, `h${i}.gelu`), blk.out)], `h${i}.residual2`);
  });
  const logits = linear(layerNorm(h, g.lnF, 'ln_f'), g.head);
  b.nodes.push({ opType: 'Identity', name: 'logits', inputs: [logits], outputs: ['logits'] });

  function gelu(x: string, base: string): string {
    const cube = node('Mul', [node('Mul', [x, x], `${base}.x2`), x], `${base}.x3`);
    const inner = node('Mul', [node('Add', [x, node('Mul', [cube, init(`${base}.a`, f32(GELU_A))], `${base}.ax3`)], `${base}.sum`), init(`${base}.c`, f32(GELU_C))], `${base}.inner`);
    const gate = node('Add', [node('Tanh', [inner], `${base}.tanh`), init(`${base}.one`, f32(1))], `${base}.gate`);
    return node('Mul', [node('Mul', [x, init(`${base}.half`, f32(0.5))], `${base}.halfx`), gate], base);
  }

  const cache = (name: string, len: string): { name: string; dtype: 'float32'; dims: (string | number)[] } => ({ name, dtype: 'float32', dims: ['batch', heads, len, dh] });
  const usesInt4 = [...b.inits.values()].some((t) => t.type === 'int4');
  return {
    nodes: b.nodes,
    inputs: [
      { name: ids, dtype: 'int64', dims: ['batch', 'sequence'] },
      { name: GPT_INPUTS.mask, dtype: 'int64', dims: ['batch', 'total_sequence'] },
      { name: positions, dtype: 'int64', dims: ['batch', 'sequence'] },
      ...Array.from({ length: layers }, (_, i) => [cache(pastName(i, 'key'), 'past_sequence'), cache(pastName(i, 'value'), 'past_sequence')]).flat(),
    ],
    outputs: [
      { name: 'logits', dtype: 'float32', dims: ['batch', 'sequence', v] },
      ...Array.from({ length: layers }, (_, i) => [cache(presentName(i, 'key'), 'total_sequence'), cache(presentName(i, 'value'), 'total_sequence')]).flat(),
    ],
    initializers: b.inits,
    opsets: { '': usesInt4 ? 21 : 17 },
    producer: opts.producer ?? 'kiln train',
  };
}
