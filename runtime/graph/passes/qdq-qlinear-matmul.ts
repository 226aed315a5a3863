import { ORT_REQUANT_ATTR } from '../../../kernels/common/quant.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { activationDequant, soleQuantize } from './qdq-groups.ts';
import { constDequant } from './qdq-weights.ts';

/**
 * onnxruntime's MatMul node group (MatMulNodeGroupSelector + QDQ::MatMulReplaceWithQLinear):
 *
 *   DequantizeLinear(aq, as, az) ─┐
 *   DequantizeLinear(Bq, bs [,bz]) ─ MatMul ─ QuantizeLinear(ys, yz) -> yq
 *     ->  QLinearMatMul(aq, as, az, Bq, bs, bz, ys, yz) -> yq
 *
 * with a constant 2-D 8-bit B whose scale is per tensor or per column (axis 1), scalar activation
 * parameters, and a MatMul output read by that QuantizeLinear alone. int32 accumulation and MLAS's
 * requantization (ORT_REQUANT_ATTR) then give onnxruntime's integers. A Gemm group is left alone:
 * onnxruntime-web 1.30 runs DequantizeLinear -> Gemm -> QuantizeLinear in float (docs/quantization.md).
 */
export function lowerQdqMatMulToQLinear(graph: Graph, opset: number): void {
  if (opset < 10) return;
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const mm of graph.nodes) {
    if (mm.opType !== 'MatMul' || mm.domain !== '' || mm.outputs.length !== 1 || !mm.inputs[0] || !mm.inputs[1]) continue;
    const dqa = activationDequant(graph, index, mm.inputs[0]);
    const q = soleQuantize(graph, index, mm.outputs[0]!);
    const w = constDequant(graph, index, mm.inputs[1], opset);
    if (!dqa || !q || !w || w.bits !== 8 || w.q.dims.length !== 2) continue;
    if (w.layout.kind === 'blocked' || (w.layout.kind === 'axis' && w.layout.axis !== 1)) continue;
    replace.set(mm, {
      ...mm,
      opType: 'QLinearMatMul',
      inputs: [dqa.inputs[0]!, dqa.inputs[1]!, dqa.inputs[2]!, w.qName, w.scaleName, w.zpName ?? '', q.inputs[1]!, q.inputs[2]!],
      outputs: [q.outputs[0]!],
      attrs: mm.attrs.with(ORT_REQUANT_ATTR, 1),
    });
    replace.set(q, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
