import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { activationDequant, soleQuantize } from './qdq-groups.ts';

/**
 * onnxruntime's Add node group (BinaryNodeGroupSelector + QDQ::BinaryReplaceWithQLinear):
 *
 *   DequantizeLinear(aq, as, az) ─┐
 *                                 Add ─ QuantizeLinear(cs, cz) -> cq
 *   DequantizeLinear(bq, bs, bz) ─┘
 *     ->  com.microsoft QLinearAdd(aq, as, az, bq, bs, bz, cs, cz) -> cq
 *
 * with scalar parameters, one 8-bit type for both inputs and the output, and an Add output read by
 * that QuantizeLinear alone. The kernel (kernels/qlinear-binary/) then rounds exactly as MLAS's.
 * Mul is left in float: onnxruntime-web's answers on the tie-stress model match the unfused
 * DequantizeLinear -> Mul -> QuantizeLinear (docs/quantization.md).
 */
export function lowerQdqAddToQLinear(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  const typeOf = (n: Node): string | undefined => graph.initializers.get(n.inputs[2]!)?.type;
  for (const add of graph.nodes) {
    if (add.opType !== 'Add' || add.domain !== '' || add.outputs.length !== 1 || !add.inputs[0] || !add.inputs[1]) continue;
    const da = activationDequant(graph, index, add.inputs[0]);
    const db = activationDequant(graph, index, add.inputs[1]);
    const q = soleQuantize(graph, index, add.outputs[0]!);
    if (!da || !db || !q) continue;
    const t = typeOf(q);
    if (typeOf(da) !== t || typeOf(db) !== t) continue;
    replace.set(add, {
      ...add,
      opType: 'QLinearAdd',
      domain: 'com.microsoft',
      inputs: [da.inputs[0]!, da.inputs[1]!, da.inputs[2]!, db.inputs[0]!, db.inputs[1]!, db.inputs[2]!, q.inputs[1]!, q.inputs[2]!],
      outputs: [q.outputs[0]!],
    });
    replace.set(q, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
