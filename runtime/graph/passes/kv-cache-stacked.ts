// generate()'s in-place cache (kv-cache-write.ts) for com.microsoft Attention, whose cache is ONE
// stacked tensor per layer: past [2, B, N, P, H] -> present [2, B, N, P + S, H] (onnxruntime's GPT-2
// exports, past_N / present_N). The node becomes its projection (MatMul + bias), Q heads-first, the new
// keys and values stacked as [2, B, N, S, H] by one Reshape + Transpose, KvCacheWrite of both at the
// offset into the cache (one call: the stacked cache is 2 B N slabs of M rows), KvCacheAttention over
// the written part of that same tensor (V read at its second half, never sliced out), and the output
// back to [B, S, N * H]. The present keeps the cache's shape, so generate() feeds it back as it is.
// mask_index is dropped, as MultiHeadAttention's key_padding_mask is (kv-cache-fused.ts): in
// generate()'s decode feeds it marks exactly the first offset + 1 keys, which KvCacheAttention reads;
// unidirectional needs nothing either: KvCacheAttention is causal from the offset. attention_bias
// stays, as KvCacheAttention's bias (its last axis follows the attention mask, as long as the cache).
// Declined (generate() keeps its window): a past read by another node, weights that are not an
// initializer of [Din, 3 N H], unequal qkv_hidden_sizes, num_heads other than the cache's, a
// past_sequence_length input, do_rotary or past_present_share_buffer.
import { Attributes } from '../../../core/attributes.ts';
import { Tensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';
import type { KvNames } from './kv-cache-fused.ts';

const IN = { X: 0, W: 1, BIAS: 2, PAST: 4, ATTN_BIAS: 5, PAST_LENGTH: 6 };

/** The nodes that replace `node` (com.microsoft Attention making one of `pairs`' presents), or undefined where the form is not the above. */
export function stackedInPlace(graph: Graph, index: GraphIndex, node: Node, pairs: readonly KvNames[], offset: string): Node[] | undefined {
  const past = node.inputs[IN.PAST];
  const present = node.outputs[1];
  if (!past || !present || !pairs.some((p) => p.past === past && p.present === present) || index.consumers.get(past)?.length !== 1) return undefined;
  if (node.inputs[IN.PAST_LENGTH] || node.attrs.int('do_rotary', 0) !== 0 || node.attrs.int('past_present_share_buffer', 0) !== 0) return undefined;
  const dims = graph.inputs.find((i) => i.name === past)?.dims;
  const [two, , heads, , headDim] = dims ?? [];
  if (dims?.length !== 5 || two !== 2 || typeof heads !== 'number' || typeof headDim !== 'number' || node.attrs.int('num_heads') !== heads) return undefined;
  const width = heads * headDim;
  const weights = graph.initializers.get(node.inputs[IN.W] ?? '');
  const sizes = node.attrs.ints('qkv_hidden_sizes');
  if (weights?.dims.length !== 2 || weights.dims[1] !== 3 * width || (sizes && sizes.some((s) => s !== width))) return undefined;

  const base = node.name;
  const make = (opType: string, inputs: string[], outputs: string[], attrs = Attributes.empty(), domain = ''): Node => ({ name: `${base}/kv_${outputs[0]}`, opType, domain, inputs, outputs, attrs });
  const int64 = (name: string, values: number[]): string => {
    graph.initializers.set(name, new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [values.length]));
    return name;
  };
  const nodes: Node[] = [];
  const add = (n: Node): string => {
    nodes.push(n);
    return n.outputs[0]!;
  };
  const projected = add(make('MatMul', [node.inputs[IN.X]!, node.inputs[IN.W]!], [`${base}/kv_qkv_mm`]));
  const bias = node.inputs[IN.BIAS];
  const qkv = bias ? add(make('Add', [projected, bias], [`${base}/kv_qkv`])) : projected;
  const axis2 = int64(`${base}/kv_axis2`, [2]);
  const slice = (from: number, to: number, tag: string): string => add(make('Slice', [qkv, int64(`${base}/kv_${tag}_start`, [from]), int64(`${base}/kv_${tag}_end`, [to]), axis2], [`${base}/kv_${tag}`]));
  // Q: [B, S, N H] -> [B, N, S, H]; K and V together: [B, S, 2 N H] -> [B, S, 2, N, H] -> [2, B, N, S, H]
  const q4 = add(make('Reshape', [slice(0, width, 'q'), int64(`${base}/kv_q_shape`, [0, 0, heads, headDim])], [`${base}/kv_q_4d`]));
  const q = add(make('Transpose', [q4], [`${base}/kv_q_heads`], Attributes.empty().with('perm', [0, 2, 1, 3])));
  const kv5 = add(make('Reshape', [slice(width, 3 * width, 'kv'), int64(`${base}/kv_kv_shape`, [0, 0, 2, heads, headDim])], [`${base}/kv_kv_5d`]));
  const kv = add(make('Transpose', [kv5], [`${base}/kv_kv_stacked`], Attributes.empty().with('perm', [2, 0, 3, 1, 4])));
  add(make('KvCacheWrite', [past, kv, offset], [present], Attributes.empty(), 'kiln'));
  const out = node.outputs[0];
  if (!out) return nodes;
  const scale = node.attrs.float('scale', 0) || 1 / Math.sqrt(headDim);
  const attentionBias = node.inputs[IN.ATTN_BIAS];
  const attended = add(make('KvCacheAttention', [q, present, '', offset, ...(attentionBias ? [attentionBias] : [])], [`${base}/kv_attended`], Attributes.empty().with('scale', scale), 'kiln'));
  const back = add(make('Transpose', [attended], [`${base}/kv_out_bsnh`], Attributes.empty().with('perm', [0, 2, 1, 3])));
  add(make('Reshape', [back, int64(`${base}/kv_to_model`, [0, 0, width])], [out]));
  return nodes;
}
