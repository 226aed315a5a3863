import type { AnyTensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';

// The edges of onnxruntime's QDQ node groups (qdq_selectors.cc): the activation DequantizeLinear
// nodes a group reads and the QuantizeLinear that alone reads its output.

const EIGHT_BIT = new Set(['uint8', 'int8']);

/**
 * A DequantizeLinear / QuantizeLinear node whose parameters onnxruntime's QDQ selectors accept for
 * an activation: a constant scalar float32 scale and a constant 8-bit scalar zero point.
 */
export function scalarQuantParams(graph: Graph, n: Node): boolean {
  const scalarConst = (name: string | undefined): AnyTensor | undefined => {
    const t = name ? graph.initializers.get(name) : undefined;
    return t && t.size === 1 ? t : undefined;
  };
  const s = scalarConst(n.inputs[1]);
  const z = scalarConst(n.inputs[2]);
  return !!s && s.type === 'float32' && !!z && EIGHT_BIT.has(z.type) && n.attrs.int('block_size', 0) === 0 && n.attrs.int('output_dtype', 0) === 0;
}

/** `value`'s producer when it is an activation DequantizeLinear with scalar parameters. */
export function activationDequant(graph: Graph, index: GraphIndex, value: string): Node | undefined {
  const dq = index.producer.get(value);
  return dq && dq.opType === 'DequantizeLinear' && dq.domain === '' && dq.inputs[0] && scalarQuantParams(graph, dq) ? dq : undefined;
}

/** The QuantizeLinear (scalar parameters) that alone reads `value`, a node's output. */
export function soleQuantize(graph: Graph, index: GraphIndex, value: string): Node | undefined {
  const q = index.onlyConsumer(value);
  return q && q.opType === 'QuantizeLinear' && q.domain === '' && q.inputs[0] === value && scalarQuantParams(graph, q) && q.attrs.int('saturate', 1) === 1 ? q : undefined;
}
