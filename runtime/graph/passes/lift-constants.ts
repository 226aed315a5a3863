import type { Graph, Node } from '../ir.ts';
import { rewriteNodes } from './graph-index.ts';

/**
 * Constant nodes holding a tensor (`value`) become initializers. Some exporters (paddle2onnx: every
 * weight of the PaddleOCR models) emit weights as Constant nodes, and the folding and fusion passes
 * read weights from initializers only: without this, no BatchNormalization of those models folds
 * into its Conv. The other `value_*` forms stay nodes (the planner folds them).
 */
export function liftConstants(graph: Graph): void {
  const lifted = new Map<Node, undefined>();
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  for (const n of graph.nodes) {
    if (n.opType !== 'Constant' || n.domain !== '' || n.outputs.length !== 1 || !n.attrs.has('value')) continue;
    const name = n.outputs[0]!;
    if (!name || graph.initializers.has(name) || graphOutputs.has(name)) continue;
    const t = n.attrs.tensor('value');
    if (!t) continue;
    graph.initializers.set(name, t);
    lifted.set(n, undefined);
  }
  if (lifted.size > 0) rewriteNodes(graph, lifted);
}
