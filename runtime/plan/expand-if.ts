// An If node becomes the nodes of the branch its condition picks, renamed into the enclosing graph,
// so the branch runs on the session's backend like any other nodes (kernels/control-flow/op.ts says
// why If is not a kernel). The plan is keyed by the condition's value (a host input), so the other
// branch gets its own plan when a run picks it.
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { CAPTURES_ATTR, isGraph } from '../graph/subgraph.ts';
import type { Node } from '../graph/ir.ts';
import { inlineSubgraph, type Inlined } from './inline-subgraph.ts';
import type { ResolvedNode } from './resolved-graph.ts';

/** True when a one-element condition tensor is non-zero (ONNX: cond holds a single element). */
export function conditionValue(cond: AnyTensor, node: string): boolean {
  if (cond.size !== 1) fail('INVALID_GRAPH', `node '${node}': the condition must hold one element, it has shape [${cond.dims.join(', ')}]`);
  return Number((cond.data as ArrayLike<number | bigint>)[0]) !== 0;
}

/** Outer values a control-flow node's subgraphs read (as they spell them) -> the node's inputs now, which start at `first`. */
export function capturedBindings(node: Node, first: number): Map<string, string> {
  const captures = node.attrs.strings(CAPTURES_ATTR) ?? [];
  return new Map(captures.map((name, k) => [name, node.inputs[first + k] ?? '']));
}

export function expandIf(rn: ResolvedNode, cond: AnyTensor, opsets: ReadonlyMap<string, number>): Inlined {
  const { node } = rn;
  const which = conditionValue(cond, node.name) ? 'then_branch' : 'else_branch';
  const branch = node.attrs.raw(which);
  if (!isGraph(branch)) return fail('INVALID_GRAPH', `If node '${node.name}' has no ${which} graph`);
  if (branch.outputs.length !== node.outputs.length) {
    fail('INVALID_GRAPH', `If node '${node.name}': its ${which} has ${branch.outputs.length} outputs, the node ${node.outputs.length}`);
  }
  return inlineSubgraph(branch, { prefix: `${node.name}/`, bound: capturedBindings(node, 1), outputNames: node.outputs, opsets, where: `If node '${node.name}': its ${which}` });
}
