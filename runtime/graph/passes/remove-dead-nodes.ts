import type { Graph } from '../ir.ts';

/** Drops nodes none of whose outputs reach a graph output. */
export function removeDeadNodes(graph: Graph): void {
  const live = new Set(graph.outputs.map((o) => o.name));
  const kept = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!n.outputs.some((o) => live.has(o))) continue;
    kept.push(n);
    for (const input of n.inputs) if (input) live.add(input);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.initializers.keys()]) if (!live.has(name)) graph.initializers.delete(name);
}
