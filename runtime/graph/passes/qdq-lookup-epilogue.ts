import { LOOKUP_EPILOGUE_ATTR } from '../../../kernels/qlinear-lookup/epilogue.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

/** The 8-bit ops whose requantizing epilogue can apply a table, and their table slot (one past their ONNX inputs). */
const TABLE_SLOT: Readonly<Record<string, number>> = { QLinearConv: 9, QLinearMatMul: 8 };

/**
 * QLinearConv / QLinearMatMul -> kiln.QLinearLookup with a constant 8-bit table (the activation
 * after a quantized conv: qdq-lookup-table.ts) becomes the conv alone with the table as an extra
 * input, applied to each requantized byte as it is stored (kernels/qlinear-lookup/epilogue.ts):
 * the same bytes, one pass over the tensor instead of two. The conv's output must feed the lookup
 * alone. Run for the wasm backend only (optimize.ts), whose 8-bit GEMM and depthwise kernels have
 * the table in their epilogue (kernels/wasm/src/gemm-s8.c); float tables keep their step.
 */
export function foldLookupIntoQLinear(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const lookup of graph.nodes) {
    if (lookup.opType !== 'QLinearLookup' || lookup.domain !== 'kiln' || lookup.inputs.length !== 2 || !lookup.inputs[0]) continue;
    const table = graph.initializers.get(lookup.inputs[1]!);
    if (!table || (table.type !== 'uint8' && table.type !== 'int8') || table.size !== 256) continue;
    const op = index.producer.get(lookup.inputs[0]);
    const slot = op && op.domain === '' ? TABLE_SLOT[op.opType] : undefined;
    if (!op || slot === undefined || replace.has(op) || op.outputs.length !== 1 || op.inputs.length > slot || op.attrs.has(LOOKUP_EPILOGUE_ATTR)) continue;
    if (!index.hasSingleConsumer(lookup.inputs[0])) continue;
    const inputs = [...op.inputs, ...new Array<string>(slot - op.inputs.length).fill(''), lookup.inputs[1]!];
    replace.set(op, undefined);
    replace.set(lookup, { ...op, name: op.name, inputs, outputs: [lookup.outputs[0]!], attrs: op.attrs.with(LOOKUP_EPILOGUE_ATTR, 1) });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
