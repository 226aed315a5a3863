// An If node becomes the nodes of the branch its condition picks, renamed into the enclosing graph,
// so the branch runs on the session's backend like any other nodes (kernels/control-flow/op.ts says
// why If is not a kernel). The plan is keyed by the condition's value (a host input), so the other
// branch gets its own plan when a run picks it.
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { resolveDefinition } from '../../kernels/definitions.ts';
import { Attributes } from '../../core/attributes.ts';
import { opsetOf, type Node } from '../graph/ir.ts';
import { CAPTURES_ATTR, isGraph } from '../graph/subgraph.ts';
import { topoSort } from '../graph/topo-sort.ts';
import type { ResolvedNode } from './resolved-graph.ts';

export interface Expansion {
  /** the branch's nodes, renamed, in topological order (nested Ifs stay If nodes: expanded in turn) */
  readonly nodes: readonly ResolvedNode[];
  /** the branch's initializers, renamed */
  readonly constants: ReadonlyMap<string, AnyTensor>;
}

/** True when a one-element condition tensor is non-zero (ONNX: cond holds a single element). */
export function conditionValue(cond: AnyTensor, node: string): boolean {
  if (cond.size !== 1) fail('INVALID_GRAPH', `If node '${node}': the condition must hold one element, it has shape [${cond.dims.join(', ')}]`);
  return Number((cond.data as ArrayLike<number | bigint>)[0]) !== 0;
}

export function expandIf(rn: ResolvedNode, cond: AnyTensor, opsets: ReadonlyMap<string, number>): Expansion {
  const { node } = rn;
  const which = conditionValue(cond, node.name) ? 'then_branch' : 'else_branch';
  const branch = node.attrs.raw(which);
  if (!isGraph(branch)) return fail('INVALID_GRAPH', `If node '${node.name}' has no ${which} graph`);
  if (branch.outputs.length !== node.outputs.length) {
    fail('INVALID_GRAPH', `If node '${node.name}': its ${which} has ${branch.outputs.length} outputs, the node ${node.outputs.length}`);
  }
  // Outer values the branch reads, by the names the branch spells them with -> their names now.
  const captures = node.attrs.strings(CAPTURES_ATTR) ?? [];
  const outer = new Map<string, string>(captures.map((name, k) => [name, node.inputs[1 + k] ?? '']));
  const prefix = `${node.name}/`;
  const producedByNode = new Set(branch.nodes.flatMap((n) => n.outputs.filter((o) => o !== '')));
  const renamed = new Map<string, string>();
  branch.outputs.forEach((o, k) => {
    if (producedByNode.has(o.name) && node.outputs[k] && !renamed.has(o.name)) renamed.set(o.name, node.outputs[k]);
  });
  for (const name of [...branch.initializers.keys(), ...producedByNode]) if (!renamed.has(name)) renamed.set(name, `${prefix}${name}`);
  const ref = (name: string): string => {
    if (name === '') return '';
    const r = renamed.get(name) ?? outer.get(name);
    return r ?? fail('INVALID_GRAPH', `If node '${node.name}': its ${which} reads '${name}', which nothing defines`);
  };

  const nodes: Node[] = branch.nodes.map((n) => ({ ...n, name: `${prefix}${n.name}`, inputs: n.inputs.map(ref), outputs: n.outputs.map((o) => (o === '' ? '' : renamed.get(o)!)) }));
  // A branch output that no branch node produces (an outer value, an initializer, a repeated output) is copied to the If's output.
  branch.outputs.forEach((o, k) => {
    const target = node.outputs[k];
    if (target && renamed.get(o.name) !== target) nodes.push({ name: `${prefix}output_${k}`, opType: 'Identity', domain: '', inputs: [ref(o.name)], outputs: [target], attrs: Attributes.empty() });
  });
  const constants = new Map<string, AnyTensor>([...branch.initializers].map(([name, t]) => [renamed.get(name)!, t]));
  const resolved: ResolvedNode[] = nodes.map((n) => ({
    node: n,
    op: resolveDefinition(n.domain, n.opType) ?? fail('UNSUPPORTED_OPS', `If node '${node.name}': unsupported op ${n.opType} in its ${which}`),
    opset: opsetOf({ opsets }, n.domain),
  }));
  const available = { initializers: constants, inputs: [...new Set(node.inputs)].map((name) => ({ name })) };
  return { nodes: topoSort(resolved, (r) => r.node, available), constants };
}
