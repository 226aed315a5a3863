import type { Graph, Node } from '../ir.ts';

/** Producer and consumer lookups for rewrite passes; rebuild after each structural change. */
export class GraphIndex {
  readonly producer = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly graphOutputs: Set<string>;

  constructor(readonly graph: Graph) {
    this.graphOutputs = new Set(graph.outputs.map((o) => o.name));
    for (const n of graph.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of n.inputs) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
  }

  /** The value feeds exactly one node and is not a graph output: safe to fuse into that node. */
  hasSingleConsumer(value: string): boolean {
    return !this.graphOutputs.has(value) && (this.consumers.get(value)?.length ?? 0) === 1;
  }

  onlyConsumer(value: string): Node | undefined {
    return this.hasSingleConsumer(value) ? this.consumers.get(value)![0] : undefined;
  }
}

/** Replaces nodes (by identity) and drops the removed ones, keeping order. */
export function rewriteNodes(graph: Graph, replace: ReadonlyMap<Node, Node | undefined>): void {
  graph.nodes = graph.nodes.flatMap((n) => {
    if (!replace.has(n)) return [n];
    const r = replace.get(n);
    return r ? [r] : [];
  });
}
