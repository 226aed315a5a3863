import protobuf from 'protobufjs/light.js';
import type { AnyTensor } from '../../../core/tensor.ts';
import { onnxTypeCode, type DataType } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { onnxSchema } from './onnx-schema.ts';

const root = protobuf.Root.fromJSON(onnxSchema);
const ModelProto = root.lookupType('onnx.ModelProto');
const TensorProto = root.lookupType('onnx.TensorProto');

/** `{ graph }`: a subgraph (If's then_branch / else_branch); its nodes may read the enclosing graph's values by name. */
export type WriterAttribute = number | string | readonly number[] | readonly string[] | AnyTensor | { floats: readonly number[] } | { float: number } | { graph: WriterGraph };

export interface WriterNode {
  opType: string;
  domain?: string;
  name?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Readonly<Record<string, WriterAttribute>>;
}

export interface WriterValue {
  name: string;
  dtype: DataType;
  /** numbers, symbolic names, or undefined for unknown */
  dims?: readonly (number | string | undefined)[];
}

export interface WriterGraph {
  nodes: readonly WriterNode[];
  inputs: readonly WriterValue[];
  outputs: readonly WriterValue[];
  initializers?: ReadonlyMap<string, AnyTensor> | Readonly<Record<string, AnyTensor>>;
}

export interface WriterModel extends WriterGraph {
  opsets?: Readonly<Record<string, number>>;
  producer?: string;
  metadata?: Readonly<Record<string, string>>;
}

/** Encodes a model as ONNX protobuf bytes (used by tests, the trainer's export and kiln compress). */
export function encodeOnnxModel(m: WriterModel): Uint8Array {
  const msg = {
    irVersion: 8,
    producerName: m.producer ?? 'kiln',
    opsetImport: Object.entries(m.opsets ?? { '': 17 }).map(([domain, version]) => ({ domain, version })),
    metadataProps: Object.entries(m.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: graphMessage(m, 'main'),
  };
  return ModelProto.encode(ModelProto.fromObject(msg)).finish();
}

function graphMessage(g: WriterGraph, name: string): object {
  const inits = g.initializers instanceof Map ? [...g.initializers] : Object.entries(g.initializers ?? {});
  return {
    name,
    node: g.nodes.map((n, i) => ({
      opType: n.opType,
      domain: n.domain ?? '',
      name: n.name ?? `${n.opType}_${i}`,
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: Object.entries(n.attrs ?? {}).map(([attr, v]) => encodeAttribute(attr, v)),
    })),
    initializer: inits.map(([k, t]) => tensorMessage(t, k)),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
}

export function encodeOnnxTensor(t: AnyTensor, name = ''): Uint8Array {
  return TensorProto.encode(TensorProto.fromObject(tensorMessage(t, name))).finish();
}

function valueInfo(v: WriterValue): object {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: onnxTypeCode(v.dtype),
        ...(v.dims ? { shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d ? { dimParam: d } : {})) } } : {}),
      },
    },
  };
}

function encodeAttribute(name: string, v: WriterAttribute): object {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { name, type: 8, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    if ((v as number[]).every((x) => Number.isInteger(x))) return { name, type: 7, ints: v };
    return { name, type: 6, floats: v };
  }
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  if ('float' in v) return { name, type: 1, f: v.float };
  if ('graph' in v) return { name, type: 5, g: graphMessage(v.graph, name) };
  if ('dims' in v) return { name, type: 4, t: tensorMessage(v, name) };
  return fail('INVALID_ARGUMENT', `attribute '${name}' has an unsupported value`);
}

function tensorMessage(t: AnyTensor, name: string): object {
  const base = { name, dims: [...t.dims], dataType: onnxTypeCode(t.type) };
  if (t.type === 'string') return { ...base, stringData: (t.data as string[]).map((s) => new TextEncoder().encode(s)) };
  if (t.type === 'int4' || t.type === 'uint4') {
    const packed = new Uint8Array(Math.ceil(t.size / 2));
    const d = t.data as Int8Array;
    for (let i = 0; i < t.size; i++) packed[i >> 1]! |= (d[i]! & 0xf) << ((i & 1) * 4);
    return { ...base, rawData: packed };
  }
  const view = t.data as ArrayBufferView;
  return { ...base, rawData: new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice() };
}
