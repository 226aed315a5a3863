// A subgraph's nodes renamed into the enclosing graph: what If (a branch) and Loop (one iteration of
// its body) become while planning. Names the subgraph defines get a prefix, names it reads from
// outside map to their current names, and chosen outputs take names the caller gives.
import type { AnyTensor } from '../../core/tensor.ts';
import { Attributes } from '../../core/attributes.ts';
import { fail } from '../../core/errors.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { opsetOf, type Graph, type Node } from '../graph/ir.ts';
import { topoSort } from '../graph/topo-sort.ts';
import type { ResolvedNode } from './resolved-graph.ts';

export interface Inlined {
  /** renamed nodes in topological order (nested control flow stays as nodes: expanded in turn) */
  readonly nodes: readonly ResolvedNode[];
  /** the subgraph's initializers (and any constants the caller bound), renamed */
  readonly constants: ReadonlyMap<string, AnyTensor>;
  /** the current name of each subgraph output */
  readonly outputs: readonly string[];
}

export interface InlineOptions {
  /** prefix for every name the subgraph defines, e.g. '<If node>/' */
  readonly prefix: string;
  /** subgraph inputs and outer values it reads (as the subgraph spells them) -> their names now */
  readonly bound: ReadonlyMap<string, string>;
  /** names for the subgraph's outputs ('' or undefined: keep the prefixed name) */
  readonly outputNames?: readonly (string | undefined)[];
  readonly opsets: ReadonlyMap<string, number>;
  /** for errors: "If node 'x': its then_branch" */
  readonly where: string;
}

export function inlineSubgraph(g: Graph, o: InlineOptions): Inlined {
  const producedByNode = new Set(g.nodes.flatMap((n) => n.outputs.filter((x) => x !== '')));
  const renamed = new Map<string, string>();
  g.outputs.forEach((out, k) => {
    const target = o.outputNames?.[k];
    if (target && producedByNode.has(out.name) && !renamed.has(out.name)) renamed.set(out.name, target);
  });
  for (const name of [...g.initializers.keys(), ...producedByNode]) if (!renamed.has(name)) renamed.set(name, `${o.prefix}${name}`);
  const ref = (name: string): string => {
    if (name === '') return '';
    return renamed.get(name) ?? o.bound.get(name) ?? fail('INVALID_GRAPH', `${o.where} reads '${name}', which nothing defines`);
  };
  const nodes: Node[] = g.nodes.map((n) => ({ ...n, name: `${o.prefix}${n.name}`, inputs: n.inputs.map(ref), outputs: n.outputs.map((x) => (x === '' ? '' : renamed.get(x)!)) }));
  // An output no node of the subgraph produces (an outer value, an initializer, one value given twice)
  // is copied to the name asked for.
  const outputs = g.outputs.map((out, k) => {
    const target = o.outputNames?.[k];
    if (!target || renamed.get(out.name) === target) return ref(out.name);
    nodes.push({ name: `${o.prefix}output_${k}`, opType: 'Identity', domain: '', inputs: [ref(out.name)], outputs: [target], attrs: Attributes.empty() });
    return target;
  });
  const constants = new Map<string, AnyTensor>([...g.initializers].map(([name, t]) => [renamed.get(name)!, t]));
  const resolved = resolveNodes(nodes, o.opsets, o.where);
  const available = { initializers: constants, inputs: [...new Set(o.bound.values())].map((name) => ({ name })) };
  return { nodes: topoSort(resolved, (r) => r.node, available), constants, outputs };
}

/** Binds kernels' definitions to nodes made while planning (subgraph nodes, Loop's stacking nodes). */
export function resolveNodes(nodes: readonly Node[], opsets: ReadonlyMap<string, number>, where: string): ResolvedNode[] {
  return nodes.map((n) => ({
    node: n,
    op: resolveDefinition(n.domain, n.opType) ?? fail('UNSUPPORTED_OPS', `${where} uses the unsupported op ${n.opType}`),
    opset: opsetOf({ opsets }, n.domain),
  }));
}
