// Graph-valued attributes (If's branches): which outer values a subgraph reads, and making those
// reads explicit inputs of the node that owns it, so topological sort, dead-node removal and every
// pass's "read by nothing else" check see them as ordinary edges.
import type { AttributeValue } from '../../core/attributes.ts';
import type { Graph, Node } from './ir.ts';

/** The attribute that names, in order, the outer values a control-flow node's extra inputs stand for. */
export const CAPTURES_ATTR = 'kiln_captures';

export function isGraph(v: AttributeValue | undefined): v is Graph {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'nodes' in v && 'initializers' in v && 'outputs' in v;
}

/** The subgraphs held by a node's attributes (both branches of an If, a Loop's body). */
export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const name of node.attrs.names()) {
    const v = node.attrs.raw(name);
    if (isGraph(v)) out.push(v);
    else if (Array.isArray(v)) for (const g of v) if (isGraph(g)) out.push(g);
  }
  return out;
}

/** Every node of a graph and of the subgraphs inside it, for checks that must see them all (unsupported ops, op families to load). */
export function allNodes(graph: Pick<Graph, 'nodes'>): Node[] {
  const out: Node[] = [];
  const visit = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      out.push(n);
      for (const g of subgraphsOf(n)) visit(g.nodes);
    }
  };
  visit(graph.nodes);
  return out;
}

/** Names a subgraph reads that it does not define itself (its inputs, initializers, node outputs), in first-use order. */
export function capturedNames(g: Graph): string[] {
  const local = new Set<string>(['', ...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) local.add(o);
  const out: string[] = [];
  const seen = new Set<string>();
  const use = (name: string): void => {
    if (local.has(name) || seen.has(name)) return;
    seen.add(name);
    out.push(name);
  };
  for (const n of g.nodes) {
    for (const i of n.inputs) use(i);
    // a nested control-flow node whose captures are explicit lists them among its inputs already
    if (!n.attrs.has(CAPTURES_ATTR)) for (const sub of subgraphsOf(n)) for (const c of capturedNames(sub)) use(c);
  }
  for (const o of g.outputs) use(o.name);
  return out;
}

/**
 * The graph with every node that owns subgraphs (innermost first) listing the outer values they read
 * as extra inputs after its own; `kiln_captures` keeps the names the subgraphs spell them with, so a
 * pass that renames an input (remove-identity) still lets the planner map them positionally.
 */
export function makeCapturesExplicit(graph: Graph): Graph {
  let changed = false;
  const nodes = graph.nodes.map((n) => {
    const subs = subgraphsOf(n);
    if (subs.length === 0 || n.attrs.has(CAPTURES_ATTR)) return n;
    changed = true;
    let attrs = n.attrs;
    for (const name of attrs.names()) {
      const v = attrs.raw(name);
      if (isGraph(v)) attrs = attrs.with(name, makeCapturesExplicit(v));
    }
    const inner: Node = { ...n, attrs };
    const captures = [...new Set(subgraphsOf(inner).flatMap(capturedNames))];
    return { ...inner, inputs: [...n.inputs, ...captures], attrs: attrs.with(CAPTURES_ATTR, captures) };
  });
  return changed ? { ...graph, nodes } : graph;
}
