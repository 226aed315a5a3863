import type { Graph } from '../ir.ts';
import { registerQdqPasses } from './optimize.ts';
import { fuseQdqWebgpu } from './fuse-qdq-webgpu.ts';
import { fuseQuantizedExcite } from './qdq-excite.ts';
import { foldLookupIntoQLinear } from './qdq-lookup-epilogue.ts';
import { fuseActivationQdq } from './qdq-activation.ts';
import { lowerQdqConv } from './qdq-conv.ts';
import { foldQdqLookupTables } from './qdq-lookup-table.ts';
import { foldConstantQuantize } from './qdq-fold-weights.ts';
import { lowerQdqMatMul } from './qdq-matmul.ts';
import { lowerQdqAddToQLinear } from './qdq-qlinear-binary.ts';
import { lowerQdqConvToQLinear } from './qdq-qlinear-conv.ts';
import { lowerQdqMatMulToQLinear } from './qdq-qlinear-matmul.ts';
import { dropReluBeforeQuantize } from './qdq-relu.ts';

/**
 * QDQ lowering, in two steps because of the fusion passes between them (see optimize.ts):
 * - `before-fusion`: QuantizeLinear of constant float weights is folded into integer initializers
 *   (PyTorch's fake-quant export); then the node groups onnxruntime runs as integer kernels become
 *   those kernels (a Relu before a QuantizeLinear of zero point = type minimum drops; DQ ->
 *   Conv/MatMul/Add -> Q become QLinearConv/QLinearMatMul/QLinearAdd with MLAS's rounding:
 *   docs/quantization.md, issue 12); then MatMul/Gemm left over a constant DequantizeLinear become
 *   MatMulNBits (which has a bias input but no activation epilogue, so it must claim its bias Add
 *   before fuseBias and stay clear of fuseActivations);
 * - `after-fusion`: Conv over a constant DequantizeLinear becomes kiln.DequantConv, keeping the
 *   activation fuseActivations gave the Conv.
 * Activation QuantizeLinear -> DequantizeLinear pairs keep their meaning (they round activations to
 * the quantization grid exactly as onnxruntime's integer kernels do, which is what makes results
 * match onnxruntime on the same QDQ model, docs/quantization.md) but run as one fused node.
 */
export function lowerQdq(graph: Graph, opset: number, stage: 'before-fusion' | 'after-fusion'): void {
  if (stage === 'before-fusion') {
    foldConstantQuantize(graph, opset);
    dropReluBeforeQuantize(graph);
    lowerQdqConvToQLinear(graph, opset);
    lowerQdqMatMulToQLinear(graph, opset);
    lowerQdqAddToQLinear(graph);
    foldQdqLookupTables(graph, opset);
    lowerQdqMatMul(graph, opset);
  } else {
    lowerQdqConv(graph, opset);
    fuseActivationQdq(graph, opset);
  }
}

registerQdqPasses({
  lower: lowerQdq,
  forWasm: (graph, opset) => {
    foldLookupIntoQLinear(graph);
    fuseQuantizedExcite(graph, opset);
  },
  forWebgpu: fuseQdqWebgpu,
});
