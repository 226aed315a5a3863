import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { constDequant } from './qdq-weights.ts';

/**
 * Conv(X, DequantizeLinear(Wq, scale, zp), B)  ->  kiln.DequantConv(X, Wq, B, scale, zp)
 * for a constant 8/4-bit Wq in any layout DequantizeLinear accepts (per-tensor, per-axis, blocked).
 * The weight then stays packed on the GPU (kernels/dequant-conv.ts) instead of being folded into a
 * float32 constant by the planner. Conv's attributes (and a fused activation) carry over; the
 * DequantizeLinear node is left for dead-node removal (it may feed other nodes).
 */
export function lowerQdqConv(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || !conv.inputs[1]) continue;
    const w = constDequant(graph, index, conv.inputs[1], opset);
    if (!w || w.q.dims.length < 3) continue;
    const attrs = conv.attrs
      .with('kiln_dq_axis', w.layout.axis)
      .with('kiln_dq_block_size', w.layout.blockSize)
      .with('kiln_dq_symmetric', w.symmetric ? 1 : 0);
    replace.set(conv, {
      ...conv,
      opType: 'DequantConv',
      domain: 'kiln',
      inputs: [conv.inputs[0]!, w.qName, conv.inputs[2] ?? '', w.scaleName, w.zpName ?? ''],
      attrs,
    });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
