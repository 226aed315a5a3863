// The layers `kiln compress` can quantize: Conv, MatMul and Gemm nodes whose weight is a float32
// initializer. Each layer names the activation tensors that get Q -> DQ pairs in int8 mode: its
// data input and its output, taken after a Relu/Clip that directly follows (onnxruntime's quantizer
// does the same: the activation shares the layer's output quantization).
import type { AnyTensor } from '../../core/tensor.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';

export interface Layer {
  readonly node: WriterNode;
  readonly name: string;
  readonly opType: 'Conv' | 'MatMul' | 'Gemm';
  readonly weight: string;
  readonly bias: string | undefined;
  readonly input: string;
  readonly output: string;
}

export function initializerMap(m: WriterModel): Map<string, AnyTensor> {
  return new Map(m.initializers instanceof Map ? m.initializers : Object.entries(m.initializers ?? {}));
}

export function findLayers(m: WriterModel): Layer[] {
  const inits = initializerMap(m);
  const consumers = new Map<string, WriterNode[]>();
  for (const n of m.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(m.outputs.map((o) => o.name));
  const layers: Layer[] = [];
  for (const n of m.nodes) {
    if (n.domain && n.domain !== 'ai.onnx') continue;
    if (n.opType !== 'Conv' && n.opType !== 'MatMul' && n.opType !== 'Gemm') continue;
    const w = inits.get(n.inputs[1] ?? '');
    if (!w || w.type !== 'float32') continue;
    if (n.opType === 'Conv' && w.dims.length < 3) continue;
    if (n.opType !== 'Conv' && w.dims.length !== 2) continue;
    if (n.opType === 'Gemm' && (n.attrs?.transA ?? 0) !== 0) continue;
    const bias = n.opType === 'MatMul' ? undefined : n.inputs[2] || undefined;
    if (bias && inits.get(bias)?.type !== 'float32') continue;
    let output = n.outputs[0]!;
    const next = consumers.get(output);
    if (!graphOutputs.has(output) && next?.length === 1 && (next[0]!.opType === 'Relu' || next[0]!.opType === 'Clip') && !next[0]!.domain) output = next[0]!.outputs[0]!;
    layers.push({ node: n, name: n.name!, opType: n.opType, weight: n.inputs[1]!, bias, input: n.inputs[0]!, output });
  }
  return layers;
}
