import { fail } from '../../core/errors.ts';
import type { Node } from './ir.ts';

/** Orders items so every node comes after the producers of its inputs (ONNX files may not be sorted). */
export function topoSort<T>(items: readonly T[], nodeOf: (item: T) => Node, graph: { readonly initializers: ReadonlyMap<string, unknown>; readonly inputs: readonly { readonly name: string }[] }): T[] {
  const available = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name), '']);
  const out: T[] = [];
  let pending = [...items];
  while (pending.length > 0) {
    const next: T[] = [];
    for (const item of pending) {
      const n = nodeOf(item);
      if (n.inputs.every((i) => available.has(i))) {
        out.push(item);
        for (const o of n.outputs) if (o) available.add(o);
      } else next.push(item);
    }
    if (next.length === pending.length) {
      const n = nodeOf(next[0]!);
      const missing = n.inputs.find((i) => !available.has(i));
      fail('INVALID_GRAPH', `node '${n.name}' (${n.opType}) reads '${missing}', which no node, input or initializer produces (or the graph has a cycle)`);
    }
    pending = next;
  }
  return out;
}
