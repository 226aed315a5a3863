import type { OpDefinition } from '../../kernels/contract.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { lazyGroupOf } from '../../kernels/lazy-families.ts';
import { fail } from '../../core/errors.ts';
import type { Graph, Model, Node } from '../graph/ir.ts';
import { opsetOf } from '../graph/ir.ts';
import { topoSort } from '../graph/topo-sort.ts';
import { allNodes } from '../graph/subgraph.ts';

export interface ResolvedNode {
  readonly node: Node;
  readonly op: OpDefinition;
  readonly opset: number;
}

/** A graph whose every node has a kernel, in topological order. */
export interface ResolvedGraph {
  readonly graph: Graph;
  readonly nodes: readonly ResolvedNode[];
  /** domain ('' for ai.onnx) -> opset version: the planner resolves the nodes of an If's branch with them */
  readonly opsets: ReadonlyMap<string, number>;
}

/** Binds kernels to nodes; names every unsupported op (type, domain, node names) in one error. */
export function resolveGraph(model: Model, graph: Graph = model.graph): ResolvedGraph {
  checkOpsSupported(allNodes(graph)); // the branches of an If too: everything is named at load
  const resolved: ResolvedNode[] = graph.nodes.map((node) => ({ node, op: resolveDefinition(node.domain, node.opType)!, opset: opsetOf(model, node.domain) }));
  return { graph, nodes: topoSort(resolved, (r) => r.node, graph), opsets: model.opsets };
}

/**
 * Names every unsupported op in one error; also used on a streamed .kiln header, before its weights
 * arrive, where an op of a lazy group not loaded yet counts as supported (`lazyKnown`; the session
 * loads its group before resolveGraph).
 */
export function checkOpsSupported(nodes: readonly Pick<Node, 'name' | 'opType' | 'domain'>[], lazyKnown = false): void {
  const missing = new Map<string, string[]>();
  for (const node of nodes) {
    if (resolveDefinition(node.domain, node.opType)) continue;
    if (lazyKnown && lazyGroupOf(node.domain, node.opType) !== undefined) continue;
    const key = node.domain ? `${node.domain}.${node.opType}` : node.opType;
    missing.set(key, [...(missing.get(key) ?? []), node.name]);
  }
  if (missing.size > 0) {
    const list = [...missing].map(([op, nodes]) => `${op} (${nodes.length > 3 ? `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more` : nodes.join(', ')})`);
    fail('UNSUPPORTED_OPS', `the model uses ${missing.size} unsupported op${missing.size > 1 ? 's' : ''}: ${list.join('; ')}`, {
      ops: [...missing.keys()],
      nodes: Object.fromEntries(missing),
    });
  }
}
