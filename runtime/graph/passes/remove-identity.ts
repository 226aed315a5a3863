import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

// Dropout is Identity at inference (its optional mask output must be unused for removal).
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/** Removes Identity/Dropout nodes by pointing their consumers at the input. */
export function removeIdentities(graph: Graph): void {
  const index = new GraphIndex(graph);
  const rename = new Map<string, string>();
  const drop = new Map<Node, Node | undefined>();
  for (const n of graph.nodes) {
    if (!PASS_THROUGH.has(n.opType) || n.domain !== '') continue;
    const [out, mask] = n.outputs;
    const input = n.inputs[0];
    if (!out || !input || (mask && index.consumers.has(mask)) || index.graphOutputs.has(out)) continue;
    if (n.opType === 'Dropout' && n.inputs.length > 2 && n.inputs[2]) continue; // training_mode given: keep
    rename.set(out, rename.get(input) ?? input);
    drop.set(n, undefined);
  }
  if (drop.size === 0) return;
  const resolve = (name: string): string => rename.get(name) ?? name;
  rewriteNodes(graph, drop);
  graph.nodes = graph.nodes.map((n) => (n.inputs.some((i) => rename.has(i)) ? { ...n, inputs: n.inputs.map(resolve) } : n));
}
