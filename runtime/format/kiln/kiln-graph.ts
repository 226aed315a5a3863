// The header's graph JSON <-> the IR the ONNX reader produces. The mapping mirrors the ONNX writer
// and reader exactly (float attributes rounded to float32, generated node names, opset defaults),
// so a WriterModel runs the same whether it went through ONNX or .kiln.
import type { AnyTensor } from '../../../core/tensor.ts';
import type { DataType } from '../../../core/dtype.ts';
import { fail } from '../../../core/errors.ts';
import { Attributes, type AttributeValue } from '../../../core/attributes.ts';
import type { Dim, Graph, Model, Node, ValueInfo } from '../../graph/ir.ts';
import type { WriterAttribute, WriterModel, WriterValue } from '../onnx/onnx-writer.ts';
import type { HeaderAttribute, HeaderNode, HeaderValue, KilnHeader } from './kiln-layout.ts';

/** ONNX stores float attributes as float32; round the same way so both formats give equal values. */
const floatOut = (x: number): number | string => (Number.isFinite(x) ? Math.fround(x) : String(x));

export function headerAttribute(v: WriterAttribute, tensorRef: (t: AnyTensor) => number): HeaderAttribute {
  if (typeof v === 'number') return Number.isInteger(v) ? { i: v } : { f: floatOut(v) };
  if (typeof v === 'string') return { s: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { strings: v as string[] };
    if ((v as number[]).every((x) => Number.isInteger(x))) return { ints: v as number[] };
    return { floats: (v as number[]).map(floatOut) };
  }
  if ('floats' in v) return { floats: v.floats.map(floatOut) };
  if ('float' in v) return { f: floatOut(v.float) };
  return { t: tensorRef(v as AnyTensor) };
}

const headerValue = (v: WriterValue): HeaderValue => ({
  name: v.name,
  dtype: v.dtype,
  ...(v.dims ? { dims: v.dims.map((d) => d ?? null) } : {}),
});

export function headerGraph(m: WriterModel, tensorRef: (t: AnyTensor) => number): KilnHeader['graph'] {
  const nodes: HeaderNode[] = m.nodes.map((n, i) => ({
    name: n.name ?? `${n.opType}_${i}`,
    opType: n.opType,
    ...(n.domain ? { domain: n.domain } : {}),
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    ...(n.attrs && Object.keys(n.attrs).length > 0
      ? { attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, headerAttribute(v, tensorRef)])) }
      : {}),
  }));
  return { nodes, inputs: m.inputs.map(headerValue), outputs: m.outputs.map(headerValue) };
}

// ---- reading: every field is checked, since the header is untrusted JSON ----

const bad = (where: string, what: string): never => fail('INVALID_MODEL', `.kiln header: ${where}: ${what}`);

const KNOWN_DTYPES: readonly DataType[] = ['float32', 'float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string', 'int4', 'uint4'];

export function checkDtype(d: unknown, where: string): DataType {
  return KNOWN_DTYPES.includes(d as DataType) ? (d as DataType) : bad(where, `unknown dtype ${JSON.stringify(d)}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, where: string): string => (typeof v === 'string' ? v : bad(where, 'must be a string'));
const strList = (v: unknown, where: string): string[] => (Array.isArray(v) ? v.map((x, i) => str(x, `${where}[${i}]`)) : bad(where, 'must be a list of strings'));
const int = (v: unknown, where: string): number => (Number.isSafeInteger(v) ? (v as number) : bad(where, 'must be an integer'));
const floatIn = (v: unknown, where: string): number => {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  return bad(where, 'must be a number');
};

function readAttribute(a: unknown, where: string, tensorAt: (index: number, where: string) => AnyTensor): AttributeValue {
  if (!isRecord(a)) return bad(where, 'must be an object');
  const keys = Object.keys(a);
  if (keys.length !== 1) return bad(where, `must have exactly one of i, f, s, ints, floats, strings, t (has ${keys.join(', ') || 'none'})`);
  const v = a[keys[0]!];
  switch (keys[0]) {
    case 'i': return int(v, where);
    case 'f': return floatIn(v, where);
    case 's': return str(v, where);
    case 'ints': return Array.isArray(v) ? v.map((x, i) => int(x, `${where}[${i}]`)) : bad(where, 'ints must be a list');
    case 'floats': return Array.isArray(v) ? v.map((x, i) => floatIn(x, `${where}[${i}]`)) : bad(where, 'floats must be a list');
    case 'strings': return strList(v, where);
    case 't': return tensorAt(int(v, where), where);
    default: return bad(where, `unknown attribute kind '${keys[0]}'`);
  }
}

function readValue(v: unknown, where: string): ValueInfo {
  if (!isRecord(v)) return bad(where, 'must be an object');
  const name = str(v.name, `${where}.name`);
  if (!name) bad(where, 'has an empty name');
  const dtype = checkDtype(v.dtype, `${where} '${name}'`);
  if (v.dims === undefined) return { name, dtype, dims: undefined };
  if (!Array.isArray(v.dims)) return bad(`${where} '${name}'`, 'dims must be a list');
  const dims: Dim[] = v.dims.map((d, i) => {
    if (d === null) return undefined;
    if (typeof d === 'string') return d || undefined;
    const n = int(d, `${where} '${name}' dims[${i}]`);
    return n >= 0 ? n : bad(`${where} '${name}'`, `negative dimension ${n}`);
  });
  return { name, dtype, dims };
}

function readNode(n: unknown, index: number, used: Set<string>, tensorAt: (index: number, where: string) => AnyTensor): Node {
  const where = `node #${index}`;
  if (!isRecord(n)) return bad(where, 'must be an object');
  const opType = str(n.opType, `${where}.opType`);
  if (!opType) bad(where, 'has no opType');
  // Same de-duplication as the ONNX reader, so node names (and error messages) match.
  let name = (n.name === undefined ? '' : str(n.name, `${where}.name`)) || `${opType}_${index}`;
  while (used.has(name)) name = `${name}_${index}`;
  used.add(name);
  const domain = n.domain === undefined ? '' : str(n.domain, `${where}.domain`);
  const attrs = new Map<string, AttributeValue>();
  if (n.attrs !== undefined) {
    if (!isRecord(n.attrs)) return bad(where, 'attrs must be an object');
    for (const [k, a] of Object.entries(n.attrs)) attrs.set(k, readAttribute(a, `node '${name}' attribute '${k}'`, tensorAt));
  }
  return {
    name,
    opType,
    domain: domain === 'ai.onnx' ? '' : domain,
    inputs: strList(n.inputs, `node '${name}' inputs`),
    outputs: strList(n.outputs, `node '${name}' outputs`),
    attrs: new Attributes(attrs, `${opType} node '${name}'`),
  };
}

/** Builds the IR from a checked header and its tensors (initializers by name, attribute tensors by index). */
export function modelFromHeader(
  header: KilnHeader,
  initializers: Map<string, AnyTensor>,
  tensorAt: (index: number, where: string) => AnyTensor,
): Model {
  const g: unknown = header.graph;
  if (!isRecord(g)) return bad('graph', 'must be an object');
  if (!Array.isArray(g.nodes) || !Array.isArray(g.inputs) || !Array.isArray(g.outputs)) return bad('graph', 'needs nodes, inputs and outputs lists');
  const used = new Set<string>();
  const nodes = g.nodes.map((n, i) => readNode(n, i, used, tensorAt));
  const inputs = g.inputs.map((v, i) => readValue(v, `graph input #${i}`)).filter((v) => !initializers.has(v.name));
  const outputs = g.outputs.map((v, i) => readValue(v, `graph output #${i}`));
  const valueInfo = new Map<string, ValueInfo>();
  if (g.valueInfo !== undefined) {
    if (!Array.isArray(g.valueInfo)) return bad('graph.valueInfo', 'must be a list');
    for (const [i, v] of g.valueInfo.entries()) {
      const info = readValue(v, `valueInfo #${i}`);
      valueInfo.set(info.name, info);
    }
  }
  const graph: Graph = { nodes, initializers, inputs, outputs, valueInfo };
  const opsets = new Map<string, number>();
  if (!isRecord(header.opsets)) return bad('opsets', 'must be an object');
  for (const [domain, v] of Object.entries(header.opsets)) opsets.set(domain === 'ai.onnx' ? '' : domain, int(v, `opsets['${domain}']`));
  if (!opsets.has('')) opsets.set('', 1);
  const metadata = new Map<string, string>();
  if (header.modelMetadata !== undefined) {
    if (!isRecord(header.modelMetadata)) return bad('modelMetadata', 'must be an object');
    for (const [k, v] of Object.entries(header.modelMetadata)) metadata.set(k, str(v, `modelMetadata['${k}']`));
  }
  const producer = header.producer === undefined ? '' : str(header.producer, 'producer');
  // irVersion 8: what the ONNX writer stamps on the same WriterModel.
  return { graph, opsets, irVersion: 8, producer, metadata };
}
