// A read ONNX model as a WriterModel (runtime/format/onnx/onnx-writer.ts), the form `kiln compress`
// edits and hands to both writers (QDQ ONNX and .kiln). The IR keeps attribute values but not
// whether a number was an INT or a FLOAT attribute, which onnxruntime checks (LeakyRelu alpha = 1.0
// written as an INT is rejected), so the attribute types are read from the protobuf again.
import protobuf from 'protobufjs/light.js';
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { onnxSchema } from '../../runtime/format/onnx/onnx-schema.ts';
import type { WriterAttribute, WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Graph, Model } from '../../runtime/graph/ir.ts';

const ModelProto = protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');

interface AttrTypes {
  graph?: { node?: { attribute?: { name?: string; type?: number }[] }[] };
}

const FLOAT = 1;
const FLOATS = 6;
const GRAPH_TYPES = new Set([5, 10]);

/** Attribute type codes per node name, from the protobuf (the IR names nodes in the same order). */
export function attributeTypes(bytes: Uint8Array, model: Model): Map<string, Map<string, number>> {
  // protobufjs' reflection API returns an untyped Message; AttrTypes mirrors the fields used here.
  const proto = ModelProto.decode(bytes) as unknown as AttrTypes;
  const protoNodes = proto.graph?.node ?? [];
  if (protoNodes.length !== model.graph.nodes.length) fail('INTERNAL', 'the ONNX graph and its IR differ in node count');
  return new Map(model.graph.nodes.map((n, i) => [n.name, new Map((protoNodes[i]!.attribute ?? []).map((a) => [a.name ?? '', a.type ?? 0]))]));
}

/** `graph` is the model's graph or a rewritten copy (passes keep node names, or add nodes without float attributes). */
export function toWriterModel(model: Model, graph: Graph, attrTypes: ReadonlyMap<string, ReadonlyMap<string, number>>): WriterModel {
  const nodes: WriterNode[] = graph.nodes.map((n) => {
    const types = attrTypes.get(n.name) ?? new Map<string, number>();
    const attrs: Record<string, WriterAttribute> = {};
    for (const name of n.attrs.names()) {
      const type = types.get(name) ?? 0;
      if (GRAPH_TYPES.has(type)) fail('UNSUPPORTED_FEATURE', `node '${n.name}' (${n.opType}) has a subgraph attribute '${name}': kiln compress does not handle control flow`);
      const v = n.attrs.raw(name);
      if (type === FLOAT && typeof v === 'number') attrs[name] = { float: v };
      else if (type === FLOATS && Array.isArray(v)) attrs[name] = { floats: v as number[] };
      else if (typeof v === 'number' || typeof v === 'string') attrs[name] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) attrs[name] = v as number[];
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) attrs[name] = v as string[];
      else if (v && !Array.isArray(v) && 'dims' in v) attrs[name] = v as AnyTensor;
      else fail('UNSUPPORTED_FEATURE', `node '${n.name}' (${n.opType}): attribute '${name}' cannot be rewritten by kiln compress`);
    }
    return { opType: n.opType, domain: n.domain, name: n.name, inputs: n.inputs, outputs: n.outputs, attrs };
  });
  return {
    nodes,
    inputs: graph.inputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: v.dims })),
    outputs: graph.outputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: v.dims })),
    initializers: new Map(graph.initializers),
    opsets: Object.fromEntries(model.opsets),
    producer: model.producer,
    metadata: Object.fromEntries(model.metadata),
  };
}
