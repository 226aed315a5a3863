// Writes a .kiln v1 bundle (docs/format.md) from the same WriterModel the ONNX writer takes, so a
// producer builds one model and writes both. Tensors keep their dtype (int8/int4 stay packed) and
// are laid out in execution order, grouped into sections that the reader verifies (and uploads)
// one at a time while the rest streams in.
import type { AnyTensor } from '../../../core/tensor.ts';
import { fail } from '../../../core/errors.ts';
import { sha256Hex } from '../../../core/sha256.ts';
import type { WriterAttribute, WriterModel } from '../onnx/onnx-writer.ts';
import type { BundleSpec } from './bundle-spec.ts';
import { deflateRaw } from './kiln-codec.ts';
import { headerGraph } from './kiln-graph.ts';
import {
  HEADER_DEFLATED, KILN_MAGIC, KILN_MAJOR, KILN_MINOR, MAX_HEADER_BYTES, PREAMBLE_BYTES, SIGNATURE_BYTES,
  alignUp, isStoredDtype, layoutFor, storedByteLength,
  type HeaderSection, type HeaderTensor, type KilnHeader,
} from './kiln-layout.ts';
import { signKiln } from './kiln-signature.ts';
import { tensorToBytes } from './kiln-tensor-bytes.ts';
import { quantizationNotes } from './quantization-notes.ts';

export interface KilnWriteOptions {
  /** deflate-raw each section where that makes it smaller (default false) */
  entropyCoding?: boolean;
  /** store the header JSON deflate-raw compressed where that is smaller (default true; ~10x on big graphs) */
  compressHeader?: boolean;
  /** an Ed25519 private key: the header is signed and readers can require the signature */
  signingKey?: CryptoKey;
  /**
   * A section closes once it holds at least this many bytes (default 256 KiB). Smaller sections
   * let a streaming reader verify and upload sooner; a larger tensor gets a section of its own.
   */
  sectionBytes?: number;
}

interface Entry {
  readonly name: string;
  readonly tensor: AnyTensor;
  readonly role: 'initializer' | 'attribute';
}

export async function encodeKilnBundle(model: WriterModel, spec: BundleSpec, options: KilnWriteOptions = {}): Promise<Uint8Array> {
  const entries = orderedTensors(model);
  const tensorIndex = new Map<AnyTensor, number>(entries.map((e, i) => [e.tensor, i]));
  const initializers = new Map(entries.filter((e) => e.role === 'initializer').map((e) => [e.name, e.tensor]));
  const graph = headerGraph(model, (t) => tensorIndex.get(t) ?? fail('INTERNAL', 'attribute tensor missing from the tensor table'));
  const notes = new Map(quantizationNotes(
    model.nodes.map((n, i) => ({
      name: n.name ?? `${n.opType}_${i}`, opType: n.opType, domain: n.domain ?? '', inputs: n.inputs, outputs: n.outputs,
      intAttr: (a: string) => intAttribute(n.attrs?.[a]),
    })),
    (name) => {
      const t = initializers.get(name);
      return t && { dtype: t.type, dims: t.dims };
    },
  ).map((n) => [n.weight, n.scheme]));

  const { tensors, sections, blobs } = await packSections(entries, notes, options);
  const dataLength = sections.length === 0 ? 0 : alignUp(sections.at(-1)!.offset + sections.at(-1)!.byteLength);
  const header: KilnHeader = {
    graph,
    opsets: { ...(model.opsets ?? { '': 17 }) },
    producer: model.producer ?? 'kiln',
    ...(model.metadata && Object.keys(model.metadata).length > 0 ? { modelMetadata: { ...model.metadata } } : {}),
    tensors,
    sections,
    dataLength,
    spec,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > MAX_HEADER_BYTES) fail('INVALID_ARGUMENT', `the .kiln header would be ${json.length} bytes; readers refuse more than ${MAX_HEADER_BYTES}`);
  const deflated = options.compressHeader === false ? undefined : await deflateRaw(json);
  const headerDeflated = deflated !== undefined && deflated.length < json.length;
  const headerBytes = headerDeflated ? deflated : json;
  const signatureLength = options.signingKey ? SIGNATURE_BYTES : 0;
  const layout = layoutFor(headerBytes.length, signatureLength);
  const out = new Uint8Array(layout.dataStart + dataLength);
  out.set(KILN_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint16(4, KILN_MAJOR, true);
  view.setUint16(6, KILN_MINOR, true);
  view.setUint32(8, (headerBytes.length | (headerDeflated ? HEADER_DEFLATED : 0)) >>> 0, true);
  view.setUint32(12, signatureLength, true);
  out.set(headerBytes, PREAMBLE_BYTES);
  if (options.signingKey) {
    const signature = await signKiln(out.subarray(0, PREAMBLE_BYTES + headerBytes.length), options.signingKey);
    out.set(signature, PREAMBLE_BYTES + headerBytes.length);
  }
  sections.forEach((s, i) => out.set(blobs[i]!, layout.dataStart + s.offset));
  return out;
}

const intAttribute = (v: WriterAttribute | undefined): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

/** Initializers in the order nodes first read them (the order a streaming reader can use them), then attribute tensors, then unused ones. */
function orderedTensors(model: WriterModel): Entry[] {
  const inits = model.initializers instanceof Map ? new Map(model.initializers) : new Map(Object.entries(model.initializers ?? {}));
  const out: Entry[] = [];
  const taken = new Set<string>();
  const take = (name: string): void => {
    const t = inits.get(name);
    if (t && !taken.has(name)) {
      taken.add(name);
      out.push({ name, tensor: t, role: 'initializer' });
    }
  };
  model.nodes.forEach((n, i) => {
    for (const input of n.inputs) take(input);
    for (const [attr, v] of Object.entries(n.attrs ?? {})) {
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'dims' in v) {
        out.push({ name: `${n.name ?? `${n.opType}_${i}`}.${attr}`, tensor: v as AnyTensor, role: 'attribute' });
      }
    }
  });
  for (const name of inits.keys()) take(name);
  return out;
}

async function packSections(entries: readonly Entry[], notes: ReadonlyMap<string, string>, options: KilnWriteOptions) {
  const target = options.sectionBytes ?? 256 << 10;
  const tensors: HeaderTensor[] = [];
  const groups: { parts: { bytes: Uint8Array; offset: number }[]; length: number }[] = [];
  for (const e of entries) {
    if (!isStoredDtype(e.tensor.type)) fail('UNSUPPORTED_FEATURE', `tensor '${e.name}': ${e.tensor.type} tensors cannot be stored in a .kiln bundle`);
    const bytes = tensorToBytes(e.tensor, `tensor '${e.name}'`);
    if (bytes.length !== storedByteLength(e.tensor.type, e.tensor.size)) fail('INTERNAL', `tensor '${e.name}': packed to ${bytes.length} bytes`);
    let group = groups.at(-1);
    if (!group || group.length >= target) groups.push((group = { parts: [], length: 0 }));
    const offset = alignUp(group.length);
    group.parts.push({ bytes, offset });
    group.length = offset + bytes.length;
    const note = e.role === 'initializer' ? notes.get(e.name) : undefined;
    tensors.push({
      name: e.name, dtype: e.tensor.type, dims: [...e.tensor.dims], section: groups.length - 1, offset, byteLength: bytes.length,
      ...(e.role === 'attribute' ? { role: 'attribute' as const } : {}),
      ...(note ? { quantization: note } : {}),
    });
  }
  const sections: HeaderSection[] = [];
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const g of groups) {
    const raw = new Uint8Array(g.length);
    for (const p of g.parts) raw.set(p.bytes, p.offset);
    // Entropy coding only where it pays: float weights rarely shrink, packed or pruned ones do.
    const coded = options.entropyCoding ? await deflateRaw(raw) : undefined;
    const stored = coded && coded.length < raw.length ? coded : raw;
    sections.push({ offset: at, byteLength: stored.length, rawLength: raw.length, encoding: stored === raw ? 'none' : 'deflate-raw', sha256: await sha256Hex(stored) });
    blobs.push(stored);
    at = alignUp(at + stored.length);
  }
  return { tensors, sections, blobs };
}
