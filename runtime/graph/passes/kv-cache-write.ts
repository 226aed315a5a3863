// generate()'s rewrite, never part of a session's own passes: it changes the presents' shape
// contract. A decoder that makes each present as Concat(past, new) on the sequence axis gets
// KvCacheWrite(past, new, offset) instead, where past is then a cache at its maximum length and
// offset a new graph input (the position of the first new token): the present keeps the cache's
// shape, so generate() feeds it straight back as the next past, and every decode step runs one plan
// with nothing shifted. Where a layer then attends as MatMul(Q, Transpose(K)) [* scale] -> Where(mask,
// ., very negative) -> Softmax -> MatMul(., V) over those caches, that chain becomes
// KvCacheAttention (the mask may also be added: scores + Where(mask, very negative, 0)), which reads only the positions written so far: the step's cost follows the
// position, not the cache's length. The mask it drops is generate()'s (the first offset + 1 keys, one
// query), so this graph is only right for generate()'s decode steps. Presents made by
// GroupQueryAttention / MultiHeadAttention / Attention (stacked cache) are handled in kv-cache-fused.ts. Models it does not
// recognize (a past read anywhere else, such as Shape(past) for positions; other attention ops) are
// left to generate()'s window path.
import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import type { AnyTensor } from '../../../core/tensor.ts';
import { GraphIndex } from './graph-index.ts';
import { fusedInPlace } from './kv-cache-fused.ts';
import { removeDeadNodes } from './remove-dead-nodes.ts';

/** The graph input the rewrite adds: float32 [1], the cache row the step's first new token goes to. */
export const KV_OFFSET_INPUT = 'kiln_kv_offset';

export interface KvPairNames {
  readonly past: string;
  readonly present: string;
}

/** The rewritten graph, or undefined (the graph untouched) unless every pair is a Concat(past, new) on axis 2 or a fused attention op's (kv-cache-fused.ts). */
export function writeKvAtOffset(graph: Graph, pairs: readonly KvPairNames[]): Graph | undefined {
  if (pairs.length === 0 || graph.inputs.some((i) => i.name === KV_OFFSET_INPUT)) return undefined;
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node[]>();
  const initializers = new Map(graph.initializers); // removeDeadNodes prunes it: the session's own map stays whole
  for (const { past, present } of pairs) {
    const producer = index.producer.get(present);
    if (producer && replace.has(producer)) continue; // a fused attention op makes two presents
    const rank = graph.inputs.find((i) => i.name === past)?.dims?.length;
    if (producer?.opType !== 'Concat' || producer.domain !== '') {
      // GroupQueryAttention / MultiHeadAttention / Attention concatenate inside (kv-cache-fused.ts)
      const fused = producer && fusedInPlace({ ...graph, initializers }, index, producer, pairs, KV_OFFSET_INPUT);
      if (!fused) return undefined;
      replace.set(producer, fused);
      continue;
    }
    const concat = producer;
    if (rank !== 4) return undefined;
    const axis = concat.attrs.int('axis');
    if (axis === undefined || (axis + rank) % rank !== 2 || concat.inputs.length !== 2 || concat.inputs[0] !== past || !concat.inputs[1]) return undefined;
    if (index.consumers.get(past)?.length !== 1) return undefined; // the past's length read elsewhere would now be the cache's
    replace.set(concat, [{ name: `${concat.name}/kv_write`, opType: 'KvCacheWrite', domain: 'kiln', inputs: [past, concat.inputs[1], KV_OFFSET_INPUT], outputs: [present], attrs: Attributes.empty() }]);
  }
  const rewritten: Graph = {
    ...graph,
    nodes: graph.nodes.flatMap((n) => replace.get(n) ?? [n]),
    initializers,
    inputs: [...graph.inputs, { name: KV_OFFSET_INPUT, dtype: 'float32', dims: [1] }],
  };
  attendWrittenPart(rewritten);
  removeDeadNodes(rewritten); // e.g. a GQA model's own seqlens_k / total_sequence_length nodes
  return rewritten;
}

/** Each masked attention over two KvCacheWrite outputs becomes KvCacheAttention (see above); the rest is left. */
function attendWrittenPart(graph: Graph): void {
  const index = new GraphIndex(graph);
  const isCache = (value: string | undefined): boolean => value !== undefined && index.producer.get(value)?.opType === 'KvCacheWrite';
  const constant = (value: string | undefined): number | undefined => {
    const t: AnyTensor | undefined = value === undefined ? undefined : graph.initializers.get(value);
    return t && t.dims.reduce((a, b) => a * b, 1) === 1 && t.type === 'float32' && t.location === 'cpu' ? Number((t.data as ArrayLike<number>)[0]) : undefined;
  };
  const only = (value: string | undefined, opType: string, slot?: number): Node | undefined => {
    const n = value === undefined ? undefined : index.onlyConsumer(value);
    return n && n.opType === opType && n.domain === '' && (slot === undefined || n.inputs[slot] === value) ? n : undefined;
  };
  const isMaskValue = (v: number | undefined): boolean => v !== undefined && v <= -1e4;
  /** Where(cond, scores, very negative), or scores + Where(cond, very negative, 0) (trainer-node's GPT export) */
  const maskOf = (n: Node | undefined, scores: string): Node | undefined => {
    if (!n || n.domain !== '') return undefined;
    if (n.opType === 'Where') return n.inputs[1] === scores && isMaskValue(constant(n.inputs[2])) ? n : undefined;
    if (n.opType !== 'Add' || n.inputs.length !== 2) return undefined;
    const bias = index.producer.get(n.inputs[n.inputs[0] === scores ? 1 : 0]!);
    if (!bias || bias.opType !== 'Where' || bias.domain !== '') return undefined;
    const [a, b] = [constant(bias.inputs[1]), constant(bias.inputs[2])];
    return (isMaskValue(a) && b === 0) || (a === 0 && isMaskValue(b)) ? n : undefined;
  };
  const dropped = new Map<Node, Node | undefined>();
  for (const transpose of graph.nodes) {
    if (transpose.opType !== 'Transpose' || transpose.domain !== '' || !isCache(transpose.inputs[0])) continue;
    if (transpose.attrs.ints('perm')?.join(',') !== '0,1,3,2') continue;
    const qk = only(transpose.outputs[0], 'MatMul', 1);
    if (!qk?.inputs[0]) continue;
    let scale = 1;
    let scaled: Node = qk;
    const mul = index.onlyConsumer(qk.outputs[0]!);
    if (mul && mul.domain === '' && (mul.opType === 'Mul' || mul.opType === 'Div')) {
      const factor = constant(mul.inputs[mul.inputs[0] === qk.outputs[0] ? 1 : 0]);
      if (factor === undefined || (mul.opType === 'Div' && mul.inputs[0] !== qk.outputs[0])) continue;
      scale = mul.opType === 'Mul' ? factor : 1 / factor;
      scaled = mul;
    }
    const masking = maskOf(index.onlyConsumer(scaled.outputs[0]!), scaled.outputs[0]!);
    if (!masking) continue; // a mask, nothing else, is what the written part replaces
    const softmax = only(masking.outputs[0], 'Softmax', 0);
    const axis = softmax?.attrs.int('axis', -1);
    if (!softmax || (axis !== -1 && axis !== 3)) continue;
    const pv = only(softmax.outputs[0], 'MatMul', 0);
    if (!pv || !isCache(pv.inputs[1])) continue;
    for (const n of [transpose, qk, scaled, masking, softmax]) dropped.set(n, undefined);
    dropped.set(pv, { name: `${pv.name}/kv_attention`, opType: 'KvCacheAttention', domain: 'kiln', inputs: [qk.inputs[0], transpose.inputs[0]!, pv.inputs[1]!, KV_OFFSET_INPUT], outputs: pv.outputs, attrs: Attributes.empty().with('scale', scale) });
  }
  if (dropped.size === 0) return;
  graph.nodes = graph.nodes.flatMap((n) => (dropped.has(n) ? (dropped.get(n) ? [dropped.get(n)!] : []) : [n]));
}
