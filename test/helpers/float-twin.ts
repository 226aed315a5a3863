// A QDQ ONNX model's float twin, for benches that time int8/int4 against float on the same weights
// (bench/node/int8-run-ratio.ts, webgpu-int8-dispatches.ts) and the dispatch-parity test
// (test/graph/fake-quant-fusion.test.ts): every DequantizeLinear of constants becomes a float
// initializer (its plain reference), every QuantizeLinear -> DequantizeLinear pair on an activation goes (the
// DequantizeLinear's readers read the QuantizeLinear's input). The demo's trained models ship only
// quantized; this gives their float graph without retraining.
import { Attributes } from '../../core/attributes.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import type { Node } from '../../runtime/graph/ir.ts';
import { attributeTypes, toWriterModel } from '../../trainer-node/compress/onnx-to-writer.ts';
import { dequantizeReference } from '../../kernels/quantize-linear/op.ts';

export function floatTwin(qdq: Uint8Array): Uint8Array {
  const model = readOnnxModel(qdq);
  const g = model.graph;
  const opset = model.opsets.get('') ?? 13;
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const inits = new Map<string, AnyTensor>(g.initializers);
  const alias = new Map<string, string>();
  const drop = new Set<Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'DequantizeLinear') continue;
    const consts = n.inputs.filter((i) => i !== '').map((i) => inits.get(i));
    if (consts.every((t) => t !== undefined)) {
      const ins = n.inputs.map((i) => (i === '' ? undefined : inits.get(i)));
      inits.set(n.outputs[0]!, dequantizeReference(ins, { attrs: n.attrs, opset, node: n.name, host: [] })[0]!);
      drop.add(n);
      continue;
    }
    const q = producer.get(n.inputs[0]!);
    if (q?.opType === 'QuantizeLinear') {
      alias.set(n.outputs[0]!, q.inputs[0]!);
      drop.add(n);
    }
  }
  const resolve = (v: string): string => (alias.has(v) ? resolve(alias.get(v)!) : v);
  let nodes: Node[] = g.nodes.filter((n) => !drop.has(n)).map((n) => ({ ...n, inputs: n.inputs.map(resolve) }));
  const read = new Set([...nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  nodes = nodes.filter((n) => n.outputs.some((o) => read.has(o)));
  for (const o of g.outputs) {
    if (alias.has(o.name)) nodes.push({ name: `${o.name}_twin`, opType: 'Identity', domain: '', inputs: [resolve(o.name)], outputs: [o.name], attrs: new Attributes(new Map()) });
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const k of [...inits.keys()]) if (!used.has(k)) inits.delete(k);
  g.initializers.clear();
  for (const [k, v] of inits) g.initializers.set(k, v);
  const writer = toWriterModel(model, { ...g, nodes }, attributeTypes(qdq, model));
  return encodeOnnxModel({ ...writer, opsets: Object.fromEntries(model.opsets) });
}
