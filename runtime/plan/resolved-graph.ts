import { resolveKernel } from '../../kernels/registry.ts';
import type { OpKernel } from '../../kernels/types.ts';
import { fail } from '../core/errors.ts';
import type { Graph, Model, Node } from '../graph/ir.ts';
import { opsetOf } from '../graph/ir.ts';

export interface ResolvedNode {
  readonly node: Node;
  readonly kernel: OpKernel;
  readonly opset: number;
}

/** A graph whose every node has a kernel, in topological order. */
export interface ResolvedGraph {
  readonly graph: Graph;
  readonly nodes: readonly ResolvedNode[];
}

/** Binds kernels to nodes; names every unsupported op (type, domain, node names) in one error. */
export function resolveGraph(model: Model, graph: Graph = model.graph): ResolvedGraph {
  const missing = new Map<string, string[]>();
  const resolved: ResolvedNode[] = [];
  for (const node of graph.nodes) {
    const kernel = resolveKernel(node.domain, node.opType);
    if (!kernel) {
      const key = node.domain ? `${node.domain}.${node.opType}` : node.opType;
      missing.set(key, [...(missing.get(key) ?? []), node.name]);
      continue;
    }
    resolved.push({ node, kernel, opset: opsetOf(model, node.domain) });
  }
  if (missing.size > 0) {
    const list = [...missing].map(([op, nodes]) => `${op} (${nodes.length > 3 ? `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more` : nodes.join(', ')})`);
    fail('UNSUPPORTED_OPS', `the model uses ${missing.size} unsupported op${missing.size > 1 ? 's' : ''}: ${list.join('; ')}`, {
      ops: [...missing.keys()],
      nodes: Object.fromEntries(missing),
    });
  }
  return { graph, nodes: topoSort(resolved, graph) };
}

function topoSort(nodes: ResolvedNode[], graph: Graph): ResolvedNode[] {
  const available = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name), '']);
  const out: ResolvedNode[] = [];
  let pending = nodes;
  while (pending.length > 0) {
    const next: ResolvedNode[] = [];
    for (const n of pending) {
      if (n.node.inputs.every((i) => available.has(i))) {
        out.push(n);
        for (const o of n.node.outputs) if (o) available.add(o);
      } else next.push(n);
    }
    if (next.length === pending.length) {
      const n = next[0]!;
      const missingInput = n.node.inputs.find((i) => !available.has(i));
      fail('INVALID_GRAPH', `node '${n.node.name}' (${n.node.opType}) reads '${missingInput}', which no node, input or initializer produces (or the graph has a cycle)`);
    }
    pending = next;
  }
  return out;
}
