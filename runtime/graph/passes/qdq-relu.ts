import { QUANT_RANGES } from '../../../kernels/common/quant.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

/**
 * Relu -> QuantizeLinear whose zero point is the quantized type's minimum: the Relu is dropped, as
 * onnxruntime's ReluQuantFusion does (qdq_transformer/relu_quantizelinear.cc). It is exact, since
 * QuantizeLinear already saturates every negative value to that minimum; and it lets the layer
 * before (DequantizeLinear -> Conv -> Relu -> QuantizeLinear, PyTorch's Conv+ReLU export) form the
 * node group that lowers to an integer kernel, which is what onnxruntime runs.
 */
export function dropReluBeforeQuantize(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const relu of graph.nodes) {
    if (relu.opType !== 'Relu' || relu.domain !== '' || !relu.inputs[0] || !relu.outputs[0]) continue;
    const q = index.onlyConsumer(relu.outputs[0]);
    if (!q || q.opType !== 'QuantizeLinear' || q.domain !== '' || q.inputs[0] !== relu.outputs[0] || replace.has(q)) continue;
    const zp = q.inputs[2] ? graph.initializers.get(q.inputs[2]) : undefined;
    const range = zp && QUANT_RANGES[zp.type];
    if (!zp || !range || zp.size === 0 || !(zp.data as ArrayLike<number>).length) continue;
    if (!Array.from(zp.data as ArrayLike<number>).every((v) => v === range[0])) continue;
    replace.set(relu, undefined);
    replace.set(q, { ...q, inputs: [relu.inputs[0], ...q.inputs.slice(1)] });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
