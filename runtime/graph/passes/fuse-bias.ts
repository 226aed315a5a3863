import type { AnyTensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

const isFloat = (t: AnyTensor | undefined): t is AnyTensor => t !== undefined && (t.type === 'float32' || t.type === 'float16');

/**
 * MatMul(A, W) + b  ->  MatMul(A, W, b)    when W is a 2-D weight and b is a 1-D [N] vector;
 * Conv(X, W) + b    ->  Conv(X, W, b)      when b is [C,1,1] or [1,C,1,1] (TensorFlow exports).
 * The MatMul kernel reads the optional third input as a bias in its epilogue.
 */
export function fuseBias(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const producer of graph.nodes) {
    if (producer.domain !== '' || replace.has(producer)) continue;
    const isMatMul = producer.opType === 'MatMul' && producer.inputs.length === 2;
    const isConv = producer.opType === 'Conv' && !producer.inputs[2];
    if (!isMatMul && !isConv) continue;
    const weight = graph.initializers.get(producer.inputs[1]!);
    if (!isFloat(weight)) continue;
    const add = index.onlyConsumer(producer.outputs[0]!);
    if (!add || add.opType !== 'Add' || add.domain !== '') continue;
    const other = add.inputs[0] === producer.outputs[0] ? add.inputs[1]! : add.inputs[0]!;
    const bias = graph.initializers.get(other);
    if (!isFloat(bias) || bias.type !== weight.type) continue;
    const n = isMatMul ? weight.dims[weight.dims.length - 1]! : weight.dims[0]!;
    const ok = isMatMul
      ? weight.dims.length === 2 && bias.dims.length === 1 && bias.size === n // a [1, N] bias could raise a 1-D A's output rank
      : bias.size === n && (bias.dims.length === 3 || bias.dims.length === 4) && bias.dims[bias.dims.length - 3] === n;
    if (!ok) continue;
    let biasName = other;
    if (bias.dims.length !== 1) {
      biasName = `${producer.name}/fused_bias`;
      graph.initializers.set(biasName, bias.reshape([n]));
    }
    replace.set(producer, { ...producer, inputs: [producer.inputs[0]!, producer.inputs[1]!, biasName], outputs: [add.outputs[0]!] });
    replace.set(add, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
