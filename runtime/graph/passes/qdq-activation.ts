import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

const sameInt = (a: Node, b: Node, name: string, fallback: number): boolean => a.attrs.int(name, fallback) === b.attrs.int(name, fallback);

/**
 * Activation pairs QuantizeLinear(x, s, zp) -> DequantizeLinear(q, s, zp) (same scale and zero point
 * tensors, same layout, q read by nothing else) become one kiln.QuantizeDequantize node
 * (kernels/quantize-dequantize.ts): the same rounding to the quantization grid, one dispatch instead
 * of two and no integer tensor between them. QDQ models have one such pair per quantized activation.
 */
export function fuseActivationQdq(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const q of graph.nodes) {
    if (q.opType !== 'QuantizeLinear' || q.domain !== '' || !q.outputs[0]) continue;
    const dq = index.onlyConsumer(q.outputs[0]);
    if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '' || dq.inputs[0] !== q.outputs[0]) continue;
    if ((dq.inputs[1] ?? '') !== (q.inputs[1] ?? '') || (dq.inputs[2] ?? '') !== (q.inputs[2] ?? '')) continue;
    if (!sameInt(q, dq, 'axis', 1) || !sameInt(q, dq, 'block_size', 0) || dq.attrs.int('output_dtype', 0) !== 0) continue;
    // without a zero point, only the default uint8 (or an explicit output_dtype) says the type; both read it from q
    replace.set(q, { ...q, opType: 'QuantizeDequantize', domain: 'kiln', outputs: [dq.outputs[0]!], attrs: q.attrs.with('kiln_opset', opset) });
    replace.set(dq, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
