// What `kiln inspect` reports about a .kiln bundle or an ONNX model, as data (printed as text or
// JSON by the command). Unlike loading, a failed hash or signature does not stop the report: it
// says which section or what failed, and still describes the graph from the header.
import type { AnyTensor } from '../../../core/tensor.ts';
import { KilnError, fail } from '../../../core/errors.ts';
import type { Dim, Model } from '../../graph/ir.ts';
import { sha256Hex } from '../../../core/sha256.ts';
import { readOnnxModel } from '../onnx/onnx-reader.ts';
import type { BundleSpec } from './bundle-spec.ts';
import { parseHeader, readPreamble } from './kiln-header.ts';
import { PREAMBLE_BYTES, hasKilnMagic, storedByteLength, type KilnHeader, type StoredDtype } from './kiln-layout.ts';
import { readKilnBundle } from './kiln-reader.ts';
import { keyIdOf, verifyKiln } from './kiln-signature.ts';
import { quantizationNotes, type QuantNote } from './quantization-notes.ts';

export interface ValueSummary {
  readonly name: string;
  readonly dtype: string;
  readonly dims: readonly (number | string | null)[] | null;
}

export interface ModelReport {
  readonly format: 'kiln' | 'onnx';
  readonly byteLength: number;
  /** .kiln: "1.0" */
  readonly version?: string;
  readonly producer: string;
  readonly opsets: Readonly<Record<string, number>>;
  readonly nodes: number;
  readonly inputs: readonly ValueSummary[];
  readonly outputs: readonly ValueSummary[];
  /** op type (domain-qualified outside ai.onnx) -> node count, most frequent first */
  readonly ops: Readonly<Record<string, number>>;
  /** elements in all initializers and Constant-node tensors */
  readonly parameters: number;
  /** how many tensors that is */
  readonly initializers: number;
  /** stored bytes of those tensors per dtype (int4/uint4 packed two per byte) */
  readonly bytesByDtype: Readonly<Record<string, number>>;
  readonly quantization: readonly QuantNote[];
  /** ONNX metadata_props / .kiln modelMetadata */
  readonly modelMetadata: Readonly<Record<string, string>>;
  /** .kiln only */
  readonly spec?: BundleSpec;
  /**
   * 'invalid': signed, and the signature does not verify against the given key; 'missing': a key
   * was given (so a signature is required) but the file is unsigned (ONNX files always are)
   */
  readonly signature: 'none' | 'valid' | 'invalid' | 'unverified' | 'missing';
  /** signature 'valid': the id of the key that verified it (keyIdOf) */
  readonly keyId?: string;
  /** .kiln only */
  readonly sections?: readonly { readonly index: number; readonly byteLength: number; readonly rawLength: number; readonly encoding: string; readonly hashOk: boolean }[];
  /** why the model's weights could not be read (a hash failure, a corrupt section), if so */
  readonly problem?: string;
}

export async function reportModel(bytes: Uint8Array, publicKey?: CryptoKey): Promise<ModelReport> {
  return hasKilnMagic(bytes) ? reportKiln(bytes, publicKey) : reportOnnx(bytes, publicKey);
}

function reportOnnx(bytes: Uint8Array, publicKey?: CryptoKey): ModelReport {
  const model = readOnnxModel(bytes);
  return { format: 'onnx', byteLength: bytes.length, ...describeModel(model), signature: publicKey ? 'missing' : 'none' };
}

async function reportKiln(bytes: Uint8Array, publicKey?: CryptoKey): Promise<ModelReport> {
  const layout = readPreamble(bytes);
  if (bytes.length < layout.dataStart) fail('INVALID_MODEL', `.kiln: the file is truncated inside its header (${bytes.length} of ${layout.dataStart} bytes)`);
  const headerEnd = PREAMBLE_BYTES + layout.headerLength;
  let signature: ModelReport['signature'] = publicKey ? 'missing' : 'none';
  if (layout.signatureLength > 0) {
    signature = publicKey ? ((await verifyKiln(bytes.subarray(0, headerEnd), bytes.subarray(headerEnd, headerEnd + layout.signatureLength), publicKey)) ? 'valid' : 'invalid') : 'unverified';
  }
  const keyId = signature === 'valid' && publicKey ? await keyIdOf(publicKey) : undefined;
  const header = await parseHeader(bytes, layout);
  const sections = await Promise.all(header.sections.map(async (s, index) => {
    const start = layout.dataStart + s.offset;
    const hashOk = start + s.byteLength <= bytes.length && (await sha256Hex(bytes.subarray(start, start + s.byteLength))) === s.sha256;
    return { index, byteLength: s.byteLength, rawLength: s.rawLength, encoding: s.encoding, hashOk };
  }));
  let problem: string | undefined;
  let model: Model | undefined;
  try {
    model = (await readKilnBundle(bytes)).model;
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    problem = e.message;
  }
  const base = model ? describeModel(model) : describeHeader(header);
  return {
    format: 'kiln', byteLength: bytes.length, version: `${layout.major}.${layout.minor}`, ...base,
    spec: header.spec, signature, ...(keyId ? { keyId } : {}), sections, ...(problem ? { problem } : {}),
  };
}

type Described = Pick<ModelReport, 'producer' | 'opsets' | 'nodes' | 'inputs' | 'outputs' | 'ops' | 'parameters' | 'initializers' | 'bytesByDtype' | 'quantization' | 'modelMetadata'>;

const dimsOut = (dims: readonly Dim[] | undefined): ValueSummary['dims'] => (dims ? dims.map((d) => d ?? null) : null);

function countOps(nodes: readonly { opType: string; domain: string }[]): Record<string, number> {
  const ops = new Map<string, number>();
  for (const n of nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    ops.set(key, (ops.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...ops].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

function weights(list: readonly { dtype: string; dims: readonly number[] }[]): Pick<ModelReport, 'parameters' | 'bytesByDtype'> {
  let parameters = 0;
  const bytes = new Map<string, number>();
  for (const t of list) {
    const size = t.dims.reduce((a, b) => a * b, 1);
    parameters += size;
    const stored = t.dtype === 'string' ? 0 : storedByteLength(t.dtype as StoredDtype, size);
    bytes.set(t.dtype, (bytes.get(t.dtype) ?? 0) + stored);
  }
  return { parameters, bytesByDtype: Object.fromEntries([...bytes].sort((a, b) => b[1] - a[1])) };
}

/** Weights are initializers, and in many exported models Constant nodes (counted too, by output name). */
function weightTensors(model: Model): Map<string, AnyTensor> {
  const tensors = new Map(model.graph.initializers);
  for (const n of model.graph.nodes) {
    const v = n.opType === 'Constant' && n.domain === '' ? n.attrs.raw('value') : undefined;
    if (v && typeof v === 'object' && 'dims' in v && n.outputs[0]) tensors.set(n.outputs[0], v);
  }
  return tensors;
}

function describeModel(model: Model): Described {
  const g = model.graph;
  const tensors = weightTensors(model);
  return {
    producer: model.producer,
    opsets: Object.fromEntries(model.opsets),
    nodes: g.nodes.length,
    inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: dimsOut(v.dims) })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: dimsOut(v.dims) })),
    ops: countOps(g.nodes),
    initializers: tensors.size,
    ...weights([...tensors.values()].map((t) => ({ dtype: t.type, dims: t.dims }))),
    quantization: quantizationNotes(
      g.nodes.map((n) => ({ ...n, intAttr: (a: string) => { const v = n.attrs.raw(a); return typeof v === 'number' ? v : undefined; } })),
      (name) => { const t = tensors.get(name); return t && { dtype: t.type, dims: t.dims }; },
    ),
    modelMetadata: Object.fromEntries(model.metadata),
  };
}

/** The weights could not be read: describe what the (checked) header says. */
function describeHeader(h: KilnHeader): Described {
  const inits = h.tensors;
  const nodes = Array.isArray(h.graph?.nodes) ? h.graph.nodes : [];
  const value = (v: { name: string; dtype: string; dims?: readonly (number | string | null)[] }): ValueSummary => ({ name: v.name, dtype: v.dtype, dims: v.dims ?? null });
  return {
    producer: h.producer ?? '',
    opsets: h.opsets,
    nodes: nodes.length,
    inputs: (h.graph?.inputs ?? []).map(value),
    outputs: (h.graph?.outputs ?? []).map(value),
    ops: countOps(nodes.map((n) => ({ opType: String(n.opType), domain: n.domain ?? '' }))),
    initializers: inits.length,
    ...weights(inits),
    quantization: inits.filter((t) => t.quantization && t.role !== 'attribute').map((t) => ({ weight: t.name, layer: '?', scheme: t.quantization! })),
    modelMetadata: h.modelMetadata ?? {},
  };
}
