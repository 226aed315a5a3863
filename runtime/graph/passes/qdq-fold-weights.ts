import { resolveDefinition } from '../../../kernels/definitions.ts';
import { jsKernelFor } from '../../../kernels/js/kernels.ts';
import { KilnError } from '../../../core/errors.ts';
import type { Graph, Node } from '../ir.ts';
import { rewriteNodes } from './graph-index.ts';

/**
 * QuantizeLinear of a constant float weight (PyTorch exports fake-quantized QAT weights as
 * float W -> QuantizeLinear -> DequantizeLinear) is computed now and stored as the integer
 * initializer it produces, so the weight reaches the layer as DequantizeLinear(constant int8/int4)
 * and the lowering keeps it packed. Invalid parameters are left for the kernel to report.
 */
export function foldConstantQuantize(graph: Graph, opset: number): void {
  const replace = new Map<Node, Node | undefined>();
  // Looked up only when a QuantizeLinear is met: its family loads with the model's ops (kernels/lazy-families.ts).
  let quantize: ReturnType<typeof jsKernelFor> | undefined;
  for (const q of graph.nodes) {
    if (q.opType !== 'QuantizeLinear' || q.domain !== '' || !q.outputs[0]) continue;
    const parts = q.inputs.map((n) => (n ? graph.initializers.get(n) : undefined));
    if (parts.some((t, i) => q.inputs[i] && !t) || !parts[0]) continue;
    quantize ??= jsKernelFor(resolveDefinition('', 'QuantizeLinear')!);
    try {
      graph.initializers.set(q.outputs[0], quantize(parts, { attrs: q.attrs, opset, node: q.name, host: [] })[0]!);
      replace.set(q, undefined);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
    }
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
