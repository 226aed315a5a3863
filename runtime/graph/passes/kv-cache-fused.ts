// generate()'s in-place cache (kv-cache-write.ts) for presents made by fused attention ops, which
// concatenate past and new keys/values themselves (Optimum and onnxruntime-genai exports):
// - com.microsoft GroupQueryAttention already takes a past buffer longer than the sequence (its
//   past length is seqlens_k + 1 - S, its present max(total, buffer) long): it keeps its node, with
//   seqlens_k := the offset (decode: S = 1, so offset + S - 1) and total_sequence_length := the
//   cache's length, so the model's own derivation of them from attention_mask no longer matters.
//   The op writes the new rows at the offset and attends keys 0 .. offset only.
// - com.microsoft MultiHeadAttention (query, key, value [B, S, N * H], no bias, no attention_bias)
//   becomes heads-first Q, K, V, KvCacheWrite of K and V at the offset, KvCacheAttention over the
//   written part, and the output back to [B, S, N * H]. Its key_padding_mask is dropped, as the
//   Concat form's mask is: in generate()'s decode feeds it marks exactly the first offset + 1 keys.
// Anything else (packed QKV/KV, bias, attention_bias, a past read by another node, rotary or
// local windows are fine for GQA, which keeps its node) is declined: generate() keeps its window.
import { Attributes } from '../../../core/attributes.ts';
import { Tensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';

export interface KvNames {
  readonly past: string;
  readonly present: string;
}

const GQA = { PAST_K: 3, PAST_V: 4, SEQLENS: 5, TOTAL: 6, ATTN_BIAS: 10 };
const MHA = { Q: 0, K: 1, V: 2, BIAS: 3, ATTN_BIAS: 5, PAST_K: 6, PAST_V: 7 };

/** The nodes that replace `node` (a fused attention op making `pairs`' presents), or undefined where the form is not one of the above. */
export function fusedInPlace(graph: Graph, index: GraphIndex, node: Node, pairs: readonly KvNames[], offset: string): Node[] | undefined {
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
  if (node.inputs[slots.ATTN_BIAS]) return undefined; // sized by the total length, which the cache's changes
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

  const [q, k, v] = [node.inputs[MHA.Q], node.inputs[MHA.K], node.inputs[MHA.V]];
  if (!q || !k || !v || node.inputs[MHA.BIAS] || node.attrs.int('num_heads') !== heads) return undefined; // packed forms, bias
  const toHeads = int64(`${base}/kv_to_heads`, [0, 0, heads, headDim]);
  const toModel = int64(`${base}/kv_to_model`, [0, 0, heads * headDim]);
  const perm = Attributes.empty().with('perm', [0, 2, 1, 3]);
  const headsFirst = (value: string, tag: string): [Node, Node] => {
    const r = make('Reshape', '', [value, toHeads], [`${base}/kv_${tag}_4d`]);
    return [r, make('Transpose', '', [r.outputs[0]!], [`${base}/kv_${tag}_heads`], perm)];
  };
  const [qr, qt] = headsFirst(q, 'q');
  const [kr, kt] = headsFirst(k, 'k');
  const [vr, vt] = headsFirst(v, 'v');
  const scale = node.attrs.float('scale', 0) || 1 / Math.sqrt(headDim);
  const out = node.outputs[0];
  const nodes = [qr, qt, kr, kt, vr, vt,
    make('KvCacheWrite', 'kiln', [pastK!, kt.outputs[0]!, offset], [node.outputs[1]!]),
    make('KvCacheWrite', 'kiln', [pastV!, vt.outputs[0]!, offset], [node.outputs[2]!])];
  if (!out) return nodes;
  const attended = make('KvCacheAttention', 'kiln', [qt.outputs[0]!, node.outputs[1]!, node.outputs[2]!, offset], [`${base}/kv_attended`], Attributes.empty().with('scale', scale));
  const back = make('Transpose', '', [attended.outputs[0]!], [`${base}/kv_out_bsnh`], perm);
  return [...nodes, attended, back, make('Reshape', '', [back.outputs[0]!, toModel], [out])];
}
