// generate()'s rewrite, never part of a session's own passes: it changes the presents' shape
// contract. A decoder that makes each present as Concat(past, new) on the sequence axis gets
// KvCacheWrite(past, new, offset) instead, where past is then a cache at its maximum length and
// offset a new graph input (the position of the first new token): the present keeps the cache's
// shape, so generate() feeds it straight back as the next past, and every decode step runs one plan
// with nothing shifted. Models it does not recognize (attention ops that concatenate inside, a past
// read anywhere else, such as Shape(past) for positions) are left to generate()'s window path.
import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex } from './graph-index.ts';

/** The graph input the rewrite adds: float32 [1], the cache row the step's first new token goes to. */
export const KV_OFFSET_INPUT = 'kiln_kv_offset';

export interface KvPairNames {
  readonly past: string;
  readonly present: string;
}

/** The rewritten graph, or undefined (the graph untouched) unless every pair is a Concat(past, new) on axis 2. */
export function writeKvAtOffset(graph: Graph, pairs: readonly KvPairNames[]): Graph | undefined {
  if (pairs.length === 0 || graph.inputs.some((i) => i.name === KV_OFFSET_INPUT)) return undefined;
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node>();
  for (const { past, present } of pairs) {
    const concat = index.producer.get(present);
    const rank = graph.inputs.find((i) => i.name === past)?.dims?.length;
    if (!concat || concat.opType !== 'Concat' || concat.domain !== '' || rank !== 4) return undefined;
    const axis = concat.attrs.int('axis');
    if (axis === undefined || (axis + rank) % rank !== 2 || concat.inputs.length !== 2 || concat.inputs[0] !== past || !concat.inputs[1]) return undefined;
    if (index.consumers.get(past)?.length !== 1) return undefined; // the past's length read elsewhere would now be the cache's
    replace.set(concat, { name: `${concat.name}/kv_write`, opType: 'KvCacheWrite', domain: 'kiln', inputs: [past, concat.inputs[1], KV_OFFSET_INPUT], outputs: [present], attrs: Attributes.empty() });
  }
  return {
    ...graph,
    nodes: graph.nodes.map((n) => replace.get(n) ?? n),
    inputs: [...graph.inputs, { name: KV_OFFSET_INPUT, dtype: 'float32', dims: [1] }],
  };
}
