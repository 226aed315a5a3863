// generate()'s in-place cache (kv-cache-write.ts) for presents made by fused attention ops, which
// concatenate past and new keys/values themselves (Optimum and onnxruntime-genai exports):
// - com.microsoft GroupQueryAttention already takes a past buffer longer than the sequence (its
//   past length is seqlens_k + 1 - S, its present max(total, buffer) long): it keeps its node, with
//   seqlens_k := the offset (decode: S = 1, so offset + S - 1) and total_sequence_length := the
//   cache's length, so the model's own derivation of them from attention_mask no longer matters.
//   The op writes the new rows at the offset and attends keys 0 .. offset only. An attention_bias
//   stays: its last axis follows the attention mask, which generate()'s in-place feeds make as long
//   as the cache, as total_sequence_length now is (the op checks the two agree).
// - com.microsoft MultiHeadAttention becomes [B, S, N * H] Q, K, V (3-D inputs as they are; packed
//   QKV [B, S, N, 3, H] and packed KV [B, L, N, 2, H] sliced apart), + bias slices where the node
//   has a bias, heads-first, KvCacheWrite of K and V at the offset, KvCacheAttention over the
//   written part (attention_bias [B|1, N|1, S, T] as its bias, T the mask's length = the cache's),
//   and the output back to [B, S, N * H]. Its key_padding_mask is dropped, as the Concat form's mask
//   is: in generate()'s decode feeds it marks exactly the first offset + 1 keys.
// Declined (generate() keeps its window): a past read by another node, a value head size other than
// the key's, a node whose num_heads is not the cache's. com.microsoft Attention, whose cache is one
// stacked past [2, B, N, P, H], has its own form: kv-cache-stacked.ts.
import { Attributes } from '../../../core/attributes.ts';
import { Tensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';
import { stackedInPlace } from './kv-cache-stacked.ts';

export interface KvNames {
  readonly past: string;
  readonly present: string;
}

const GQA = { PAST_K: 3, PAST_V: 4, SEQLENS: 5, TOTAL: 6, ATTN_BIAS: 10 };
const MHA = { Q: 0, K: 1, V: 2, BIAS: 3, ATTN_BIAS: 5, PAST_K: 6, PAST_V: 7 };

/** The nodes that replace `node` (a fused attention op making `pairs`' presents), or undefined where the form is not one of the above. */
export function fusedInPlace(graph: Graph, index: GraphIndex, node: Node, pairs: readonly KvNames[], offset: string): Node[] | undefined {
  if (node.domain === 'com.microsoft' && node.opType === 'Attention') return stackedInPlace(graph, index, node, pairs, offset);
  if (node.domain !== 'com.microsoft' || (node.opType !== 'GroupQueryAttention' && node.opType !== 'MultiHeadAttention')) return undefined;
  const slots = node.opType === 'GroupQueryAttention' ? GQA : MHA;
  const pastK = node.inputs[slots.PAST_K];
  const pastV = node.inputs[slots.PAST_V];
  const pair = (past: string | undefined, out: number): boolean => pairs.some((p) => p.past === past && p.present === node.outputs[out]);
  // Both caches are pairs of this node, and nothing else reads the pasts (their length is now the cache's).
  if (!pair(pastK, 1) || !pair(pastV, 2) || index.consumers.get(pastK!)?.length !== 1 || index.consumers.get(pastV!)?.length !== 1) return undefined;
  const dims = graph.inputs.find((i) => i.name === pastK)?.dims;
  const valueDims = graph.inputs.find((i) => i.name === pastV)?.dims;
  const [heads, headDim] = [dims?.[1], dims?.[3]];
  if (dims?.length !== 4 || typeof heads !== 'number' || typeof headDim !== 'number' || valueDims?.[1] !== heads || valueDims[3] !== headDim) return undefined;
  const base = node.name;
  const make = (opType: string, domain: string, inputs: string[], outputs: string[], attrs = Attributes.empty()): Node => ({ name: `${base}/kv_${outputs[0]}`, opType, domain, inputs, outputs, attrs });
  const int64 = (name: string, values: number[]): string => {
    graph.initializers.set(name, new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [values.length]));
    return name;
  };

  if (node.opType === 'GroupQueryAttention') {
    const seqlens = `${base}/kv_seqlens`;
    const total = `${base}/kv_total`;
    const inputs = [...node.inputs];
    inputs[GQA.SEQLENS] = seqlens;
    inputs[GQA.TOTAL] = total;
    const length = make('Shape', '', [pastK!], [`${base}/kv_length`], Attributes.empty().with('start', 2).with('end', 3));
    const int32 = Attributes.empty().with('to', 6);
    // offset: float32 [1] -> int32 [1] (batch 1); the cache's length [1] -> int32 (read at plan time: it sizes present)
    return [make('Cast', '', [offset], [seqlens], int32), length, make('Cast', '', [length.outputs[0]!], [total], int32), { ...node, inputs }];
  }

  if (node.attrs.int('num_heads') !== heads) return undefined;
  const [q, k, v, bias] = [node.inputs[MHA.Q], node.inputs[MHA.K], node.inputs[MHA.V], node.inputs[MHA.BIAS]];
  const width = heads * headDim;
  const toModel = int64(`${base}/kv_to_model`, [0, 0, width]);
  const nodes: Node[] = [];
  // packed [B, S, N, 3, H] / [B, L, N, 2, H]: part `i` of axis 3 as [B, S, N * H]
  const part = (packed: string, i: number, tag: string): string => {
    const slice = make('Slice', '', [packed, int64(`${base}/kv_${tag}_start`, [i]), int64(`${base}/kv_${tag}_end`, [i + 1]), int64(`${base}/kv_axis3`, [3])], [`${base}/kv_${tag}_part`]);
    const flat = make('Reshape', '', [slice.outputs[0]!, toModel], [`${base}/kv_${tag}_flat`]);
    nodes.push(slice, flat);
    return flat.outputs[0]!;
  };
  let flat: [string, string, string];
  if (q && !k && !v) flat = [part(q, 0, 'q'), part(q, 1, 'k'), part(q, 2, 'v')]; // packed QKV
  else if (q && k && !v) flat = [q, part(k, 0, 'k'), part(k, 1, 'v')]; // packed KV
  else if (q && k && v) flat = [q, k, v];
  else return undefined;
  if (bias) {
    // bias [3 * N * H]: the Q, K and V parts in that order (the packed forms take it as the 3-D form does)
    flat = flat.map((value, i) => {
      const tag = ['q', 'k', 'v'][i]!;
      const slice = make('Slice', '', [bias, int64(`${base}/kv_b${tag}_start`, [i * width]), int64(`${base}/kv_b${tag}_end`, [(i + 1) * width]), int64(`${base}/kv_axis0`, [0])], [`${base}/kv_b${tag}`]);
      const add = make('Add', '', [value, slice.outputs[0]!], [`${base}/kv_${tag}_biased`]);
      nodes.push(slice, add);
      return add.outputs[0]!;
    }) as [string, string, string];
  }
  const toHeads = int64(`${base}/kv_to_heads`, [0, 0, heads, headDim]);
  const perm = Attributes.empty().with('perm', [0, 2, 1, 3]);
  const headsFirst = (value: string, tag: string): Node => {
    const r = make('Reshape', '', [value, toHeads], [`${base}/kv_${tag}_4d`]);
    const t = make('Transpose', '', [r.outputs[0]!], [`${base}/kv_${tag}_heads`], perm);
    nodes.push(r, t);
    return t;
  };
  const qt = headsFirst(flat[0], 'q');
  const kt = headsFirst(flat[1], 'k');
  const vt = headsFirst(flat[2], 'v');
  const scale = node.attrs.float('scale', 0) || 1 / Math.sqrt(headDim);
  const out = node.outputs[0];
  nodes.push(
    make('KvCacheWrite', 'kiln', [pastK!, kt.outputs[0]!, offset], [node.outputs[1]!]),
    make('KvCacheWrite', 'kiln', [pastV!, vt.outputs[0]!, offset], [node.outputs[2]!]));
  if (!out) return nodes;
  const attentionBias = node.inputs[MHA.ATTN_BIAS];
  const attended = make('KvCacheAttention', 'kiln', [qt.outputs[0]!, node.outputs[1]!, node.outputs[2]!, offset, ...(attentionBias ? [attentionBias] : [])], [`${base}/kv_attended`], Attributes.empty().with('scale', scale));
  const back = make('Transpose', '', [attended.outputs[0]!], [`${base}/kv_out_bsnh`], perm);
  return [...nodes, attended, back, make('Reshape', '', [back.outputs[0]!, toModel], [out])];
}
