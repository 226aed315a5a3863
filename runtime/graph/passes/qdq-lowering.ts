import type { Graph } from '../ir.ts';
import { lowerQdqConv } from './qdq-conv.ts';
import { lowerQdqMatMul } from './qdq-matmul.ts';

/**
 * QDQ lowering, in two steps because of the fusion passes between them (see optimize.ts):
 * - `before-fusion`: MatMul/Gemm over a constant DequantizeLinear become MatMulNBits (which has a
 *   bias input but no activation epilogue, so it must claim its bias Add before fuseBias and stay
 *   clear of fuseActivations);
 * - `after-fusion`: Conv over a constant DequantizeLinear becomes kiln.DequantConv, keeping the
 *   activation fuseActivations gave the Conv.
 * Activation QuantizeLinear -> DequantizeLinear pairs are kept as they are: they round
 * activations to the quantization grid exactly as onnxruntime's integer kernels do, which is what
 * makes results match onnxruntime on the same QDQ model (docs/quantization.md).
 */
export function lowerQdq(graph: Graph, opset: number, stage: 'before-fusion' | 'after-fusion'): void {
  if (stage === 'before-fusion') lowerQdqMatMul(graph, opset);
  else lowerQdqConv(graph, opset);
}
