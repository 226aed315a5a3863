// Nodes that stack per-iteration values along a new axis (Unsqueeze each, then Concat): how an
// unrolled Loop's and Scan's scan outputs are assembled from the values each iteration produced.
import { Attributes } from '../../core/attributes.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { Node } from '../graph/ir.ts';

/** Unsqueeze + Concat nodes writing `values` stacked on a new axis `axis` (non-negative) to `out`. */
export function stackNodes(values: readonly string[], out: string, axis: number, prefix: string, opsets: ReadonlyMap<string, number>): { nodes: Node[]; constants: Map<string, AnyTensor> } {
  const nodes: Node[] = [];
  const make = (name: string, opType: string, inputs: string[], outputs: string[], attrs = Attributes.empty()): void => void nodes.push({ name: `${prefix}${name}`, opType, domain: '', inputs, outputs, attrs });
  // Unsqueeze takes its axes as an input from opset 13, as an attribute before.
  const axesAsInput = (opsets.get('') ?? 1) >= 13;
  const axesName = `${prefix}axes`;
  values.forEach((v, i) => {
    const target = values.length === 1 ? out : `${prefix}${i}`;
    if (axesAsInput) make(`unsqueeze_${i}`, 'Unsqueeze', [v, axesName], [target]);
    else make(`unsqueeze_${i}`, 'Unsqueeze', [v], [target], new Attributes(new Map([['axes', [axis]]])));
  });
  if (values.length > 1) make('concat', 'Concat', values.map((_, i) => `${prefix}${i}`), [out], new Attributes(new Map([['axis', axis]])));
  return { nodes, constants: axesAsInput ? new Map<string, AnyTensor>([[axesName, new Tensor('int64', new BigInt64Array([BigInt(axis)]), [1])]]) : new Map() };
}
