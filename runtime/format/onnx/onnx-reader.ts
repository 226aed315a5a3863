import type { AnyTensor } from '../../../core/tensor.ts';
import { dataTypeFromOnnx } from '../../../core/dtype.ts';
import { KilnError, fail } from '../../../core/errors.ts';
import { Attributes, type AttributeValue } from '../../../core/attributes.ts';
import type { Dim, Graph, Model, Node, ValueInfo } from '../../graph/ir.ts';
import { longToNumber, type LongLike } from './long.ts';
import { checkExternalLocation } from './external-location.ts';
import { decodeOnnxMessage } from './onnx-decoder.ts';
import { tensorFromProto, type ExternalDataResolver, type TensorProtoMessage } from './tensor-proto.ts';
import { makeCapturesExplicit } from '../../graph/subgraph.ts';
import type { FreeDimensionOverrides } from '../../graph/free-dimensions.ts';
import { OnnxStreamReader, type OnnxStreamEvents, type OnnxStreamOutcome } from './onnx-stream.ts';

export { OnnxStreamReader } from './onnx-stream.ts'; // in this lazily loaded part with the rest of the reader

/**
 * The stream reader for a download, reading ahead by Range requests where the server answers them
 * (onnx-early.ts); `response` is the download's (undefined: not over http); `fixed`: the
 * session's freeDimensionOverrides (a symbolic input they name does not stop the early path).
 */
export function onnxStreamReader(total: number, events: OnnxStreamEvents | undefined, response: Response | undefined, fixed?: FreeDimensionOverrides): OnnxStreamReader {
  const early = !response ? 'not an http download'
    // Only where the server says so: a server that ignores Range would start sending the whole file again.
    // (Cross-origin, the header is seen only where the server exposes it: Access-Control-Expose-Headers.)
    : response.headers.get('accept-ranges') !== 'bytes' ? 'the server does not say Accept-Ranges: bytes'
      : { url: response.url, headers: response.headers, fixed, toModel: (m: Record<string, unknown>, built: OnnxReadOptions['built']) => typed(() => modelFromMessage(m, { built })) };
  return new OnnxStreamReader(total, events, early);
}

interface AttributeMessage {
  name?: string; type?: number; f?: number; i?: LongLike; s?: Uint8Array | number[]; t?: TensorProtoMessage;
  g?: GraphMessage; floats?: number[]; ints?: LongLike[]; strings?: (Uint8Array | number[])[];
  tensors?: TensorProtoMessage[]; graphs?: GraphMessage[]; refAttrName?: string;
}
interface NodeMessage { input?: string[]; output?: string[]; name?: string; opType?: string; attribute?: AttributeMessage[]; domain?: string }
interface DimMessage { dimValue?: LongLike; dimParam?: string }
interface TypeMessage { tensorType?: { elemType?: number; shape?: { dim?: DimMessage[] } }; sequenceType?: unknown; mapType?: unknown; optionalType?: unknown; sparseTensorType?: unknown }
interface ValueInfoMessage { name?: string; type?: TypeMessage }
interface GraphMessage {
  node?: NodeMessage[]; name?: string; initializer?: TensorProtoMessage[]; input?: ValueInfoMessage[];
  output?: ValueInfoMessage[]; valueInfo?: ValueInfoMessage[]; sparseInitializer?: unknown[];
}
interface ModelMessage {
  irVersion?: LongLike; producerName?: string; producerVersion?: string; graph?: GraphMessage;
  opsetImport?: { domain?: string; version?: LongLike }[]; metadataProps?: { key?: string; value?: string }[];
  functions?: { name?: string; domain?: string }[];
}

export interface OnnxReadOptions {
  externalData?: ExternalDataResolver;
  /** tensors already built from these messages (while the model streamed): the same objects are used */
  built?: WeakMap<TensorProtoMessage, AnyTensor>;
}

const td = new TextDecoder();
/** Bytes fields are Uint8Array views (a plain array is accepted too, as protobufjs' reflection gave for defaults). */
const utf8 = (v: Uint8Array | number[] | undefined): string => (v === undefined ? '' : td.decode(v instanceof Uint8Array ? v : Uint8Array.from(v)));

function decode<T>(type: 'ModelProto' | 'TensorProto', bytes: Uint8Array, what: string): T {
  try {
    return decodeOnnxMessage(type, bytes) as unknown as T; // untyped records decoded by onnx-schema.ts, whose shape the interfaces above mirror
  } catch (e) {
    // the decoder throws RangeError/Error with offsets for truncated or garbage input
    return fail('INVALID_MODEL', `${what} is not valid protobuf (truncated or corrupt): ${(e as Error).message}`);
  }
}

export function readOnnxModel(bytes: Uint8Array, options: OnnxReadOptions = {}): Model {
  return typed(() => modelFromMessage(decodeModel(bytes), options));
}

/** A reader bug or a shape of input we did not foresee must still surface as a typed model error. */
function typed<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError('INVALID_MODEL', `the model could not be read: ${(e as Error).message}`);
  }
}

/**
 * Like readOnnxModel, but first loads every external-data file the model names. `source`: the model's
 * bytes, or the reader they streamed through: the message it decoded while they arrived,
 * with the tensors it built then; where it could not follow the stream (`outcome` says why), the bytes
 * read whole, as they are when given whole.
 */
export async function readOnnx(source: Uint8Array | OnnxStreamReader, load: (location: string) => Promise<Uint8Array>): Promise<{ model: Model; outcome?: OnnxStreamOutcome | undefined }> {
  const streamed = source instanceof Uint8Array ? undefined : source.end();
  // A message the stream reader followed to its end has a graph (else it reads whole, for decodeModel's error).
  const m = (streamed?.message as ModelMessage | undefined) ?? decodeModel(source instanceof Uint8Array ? source : source.bytes());
  return { model: await withExternalData(m, load, streamed?.message && (source as OnnxStreamReader).built), outcome: streamed?.outcome };
}

async function withExternalData(m: ModelMessage, load: (location: string) => Promise<Uint8Array>, built?: OnnxReadOptions['built']): Promise<Model> {
  const files = new Map<string, Uint8Array>();
  /** location -> the first tensor naming it, for errors */
  const wanted = new Map<string, string>();
  const visit = (t: TensorProtoMessage, where: string): void => {
    if (t.dataLocation !== 1) return;
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (!loc || wanted.has(loc)) return;
    checkExternalLocation(loc, where); // before anything is read on the model's behalf
    wanted.set(loc, where);
  };
  for (const t of m.graph?.initializer ?? []) visit(t, `tensor '${t.name ?? ''}'`);
  for (const n of m.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) visit(a.t, `node '${n.name ?? ''}' attribute '${a.name ?? ''}'`);
  await Promise.all([...wanted].map(async ([loc, where]) => {
    try {
      files.set(loc, await load(loc));
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError(e.code, `${where}: ${e.message.replace(/^\[\w+\] /, '')}`, { ...e.details, location: loc });
      throw e;
    }
  }));
  const externalData = (loc: string): Uint8Array => files.get(loc) ?? fail('INVALID_MODEL', `external data file '${loc}' was not loaded`);
  return typed(() => modelFromMessage(m, built ? { externalData, built } : { externalData }));
}

function decodeModel(bytes: Uint8Array): ModelMessage {
  if (bytes.length === 0) fail('INVALID_MODEL', 'the model file is empty');
  const m = decode<ModelMessage>('ModelProto', bytes, 'the ONNX model');
  if (!m.graph) fail('INVALID_MODEL', 'not an ONNX model: no graph (is this the right file?)');
  return m;
}

function modelFromMessage(m: ModelMessage, options: OnnxReadOptions): Model {
  if (!m.graph) return fail('INVALID_MODEL', 'not an ONNX model: no graph');
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? []) {
    const domain = o.domain === 'ai.onnx' ? '' : (o.domain ?? '');
    opsets.set(domain, longToNumber(o.version ?? 0, 'opset_import'));
  }
  const irVersion = longToNumber(m.irVersion ?? 0, 'ir_version');
  // IR version < 3 had no opset_import; such models target opset 1.
  if (!opsets.has('')) opsets.set('', 1);
  // If nodes list the outer values their branches read as inputs (runtime/graph/subgraph.ts).
  const graph = makeCapturesExplicit(readGraph(m.graph, options, 'main graph'));
  const metadata = new Map((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  return { graph, opsets, irVersion, producer: `${m.producerName ?? ''} ${m.producerVersion ?? ''}`.trim(), metadata };
}

export function readOnnxTensor(bytes: Uint8Array): AnyTensor {
  return typed(() => tensorFromProto(decode<TensorProtoMessage>('TensorProto', bytes, 'the tensor file')));
}

function readGraph(g: GraphMessage, options: OnnxReadOptions, where: string, subgraph = false): Graph {
  const initializers = new Map<string, AnyTensor>();
  for (const t of g.initializer ?? []) {
    if (!t.name) fail('INVALID_MODEL', `${where}: an initializer has no name`);
    initializers.set(t.name, options.built?.get(t) ?? tensorFromProto(t, options.externalData));
  }
  if ((g.sparseInitializer ?? []).length > 0) fail('UNSUPPORTED_FEATURE', `${where}: sparse initializers are not supported`);
  const usedNames = new Set<string>();
  const nodes: Node[] = (g.node ?? []).map((n, i) => readNode(n, i, options, usedNames));
  const inputs = (g.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => (subgraph && !v.type ? untypedSubgraphValue(v, where) : readValueInfo(v, where)));
  const outputs = (g.output ?? []).map((v) => (subgraph && !v.type ? untypedSubgraphValue(v, where) : readValueInfo(v, where)));
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.valueInfo ?? []) {
    try {
      const info = readValueInfo(v, where);
      valueInfo.set(info.name, info);
    } catch (e) {
      // value_info is only a hint; a non-tensor or odd entry must not make a model unloadable.
      if (!(e instanceof KilnError)) throw e;
    }
  }
  return { nodes, initializers, inputs, outputs, valueInfo };
}

function readNode(n: NodeMessage, index: number, options: OnnxReadOptions, used: Set<string>): Node {
  const opType = n.opType ?? '';
  if (!opType) fail('INVALID_MODEL', `node #${index} has no op_type`);
  let name = n.name || `${opType}_${index}`;
  while (used.has(name)) name = `${name}_${index}`;
  used.add(name);
  const attrs = new Map<string, AttributeValue>();
  for (const a of n.attribute ?? []) {
    if (!a.name) fail('INVALID_MODEL', `node '${name}': attribute without a name`);
    if (a.refAttrName) fail('UNSUPPORTED_FEATURE', `node '${name}': attribute references are only valid inside functions`);
    attrs.set(a.name, readAttribute(a, `node '${name}' attribute '${a.name}'`, options));
  }
  return {
    name,
    opType,
    domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs: new Attributes(attrs, `${opType} node '${name}'`),
  };
}

function readAttribute(a: AttributeMessage, where: string, options: OnnxReadOptions): AttributeValue {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return longToNumber(a.i ?? 0, where);
    case 3: return utf8(a.s);
    case 4: return a.t ? (options.built?.get(a.t) ?? tensorFromProto(a.t, options.externalData, `${where} (tensor '${a.t.name ?? ''}')`)) : fail('INVALID_MODEL', `${where}: missing tensor`);
    case 5: return a.g ? readGraph(a.g, options, where, true) : fail('INVALID_MODEL', `${where}: missing graph`);
    case 6: return a.floats ?? [];
    case 7: return (a.ints ?? []).map((v) => longToNumber(v, where));
    case 8: return (a.strings ?? []).map(utf8);
    case 9: return (a.tensors ?? []).map((t, k) => tensorFromProto(t, options.externalData, `${where}[${k}] (tensor '${t.name ?? ''}')`));
    case 10: return (a.graphs ?? []).map((gg) => readGraph(gg, options, where, true));
    default: return fail('UNSUPPORTED_FEATURE', `${where}: attribute type ${a.type ?? 'missing'} is not supported`);
  }
}

/**
 * ONNX lets a subgraph's inputs and outputs go without a type (function expansions write If branches
 * and Loop bodies so). The planner takes types from the values bound to a subgraph's inputs and from
 * the nodes producing its outputs, never from this entry, so only the name matters: the dtype here is
 * a placeholder, and the unknown shape says so.
 */
function untypedSubgraphValue(v: ValueInfoMessage, where: string): ValueInfo {
  if (!v.name) fail('INVALID_MODEL', `${where}: an input or output has no name`);
  return { name: v.name, dtype: 'float32', dims: undefined };
}

function readValueInfo(v: ValueInfoMessage, where: string): ValueInfo {
  const name = v.name ?? '';
  if (!name) fail('INVALID_MODEL', `${where}: an input or output has no name`);
  const tt = v.type?.tensorType;
  if (!tt) return fail('UNSUPPORTED_FEATURE', `${where}: value '${name}' is not a tensor (sequences, maps and optionals are not supported)`);
  const dtype = dataTypeFromOnnx(tt.elemType ?? 0, `value '${name}'`);
  const dims: Dim[] | undefined = tt.shape
    ? (tt.shape.dim ?? []).map((d) => (Object.hasOwn(d, 'dimValue') ? longToNumber(d.dimValue ?? 0, where) : d.dimParam || undefined))
    : undefined;
  return { name, dtype, dims };
}
