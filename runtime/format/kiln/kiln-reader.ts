// Reads .kiln bundles, whole or while they stream in. The stream reader keeps one buffer sized
// from the header (never a second copy of the model), parses and checks the header (and its
// signature) as soon as it has arrived, and verifies and decodes each section the moment its last
// byte lands, so callers can start work (and uploads) before the download ends. Tensors are views
// into that buffer (decoded copies for entropy-coded sections).
import type { AnyTensor } from '../../../core/tensor.ts';
import { KilnError, fail } from '../../../core/errors.ts';
import type { Model } from '../../graph/ir.ts';
import { sha256Hex } from '../../../core/sha256.ts';
import type { BundleSpec } from './bundle-spec.ts';
import { inflateRaw } from './kiln-codec.ts';
import { modelFromHeader } from './kiln-graph.ts';
import { parseHeader, readPreamble, typedModelError } from './kiln-header.ts';
import { PREAMBLE_BYTES, type HeaderTensor, type KilnHeader, type KilnLayout, type StoredDtype } from './kiln-layout.ts';
import { keyIdOf, signaturePolicy, verifyKiln } from './kiln-signature.ts';
import { tensorFromBytes } from './kiln-tensor-bytes.ts';

export interface KilnReadOptions {
  /**
   * Ed25519 public key(s) (several while keys rotate). A key given means a signature is required:
   * unsigned bundles and ONNX models are INTEGRITY, and so is a signature no given key verifies.
   */
  publicKey?: CryptoKey | readonly CryptoKey[];
  /** refuse bundles without a signature that verifies against publicKey (implied by publicKey) */
  requireSignature?: boolean;
  /** with publicKey: still load unsigned bundles (and ONNX); a signed bundle must still verify */
  allowUnsigned?: boolean;
}

/** 'unverified': signed, but no public key was given to check it. */
export type SignatureStatus = 'none' | 'valid' | 'unverified';

export interface KilnBundle {
  readonly model: Model;
  readonly spec: BundleSpec;
  readonly header: KilnHeader;
  readonly version: { readonly major: number; readonly minor: number };
  readonly signature: SignatureStatus;
  /** signature 'valid': the id (keyIdOf) of the key that verified it */
  readonly keyId?: string;
  /** total bytes of the file */
  readonly byteLength: number;
}

export interface KilnHeaderInfo {
  readonly signature: SignatureStatus;
  readonly byteLength: number;
  /**
   * The model as far as it has arrived when called: tensors not yet verified are zeros of their
   * dtype and dims. For planning from shapes only (pipelines compiled while the weights stream),
   * never for answers. Throws what end() would on a malformed graph.
   */
  readonly modelSoFar: () => Model;
}

export interface KilnStreamEvents {
  /** the header arrived and checked out (signature included); nothing of the data yet */
  onHeader?: (header: KilnHeader, info: KilnHeaderInfo) => void;
  /** section `index` arrived, its SHA-256 matched, and these tensors were decoded from it */
  onSection?: (index: number, tensors: ReadonlyMap<string, AnyTensor>) => void;
}

/** Reads a complete .kiln file. The returned model's tensors view `bytes` (do not modify them). */
export async function readKilnBundle(bytes: Uint8Array, options: KilnReadOptions = {}, events: KilnStreamEvents = {}): Promise<KilnBundle> {
  const reader = new KilnStreamReader(options, events, bytes);
  return reader.end();
}

export class KilnStreamReader {
  private buf: Uint8Array;
  private filled = 0;
  private layout: KilnLayout | undefined;
  private header: KilnHeader | undefined;
  private signature: SignatureStatus = 'none';
  private keyId: string | undefined;
  private nextSection = 0;
  private readonly tensors: (AnyTensor | undefined)[] = [];
  /** tensor-table indices per section, built once: scanning the table per section is quadratic */
  private bySection: number[][] = [];
  /** serializes async steps so chunks are processed in order */
  private work: Promise<void> = Promise.resolve();
  private failed: KilnError | undefined;

  constructor(
    private readonly options: KilnReadOptions = {},
    private readonly events: KilnStreamEvents = {},
    whole?: Uint8Array,
  ) {
    this.buf = whole ?? new Uint8Array(64 << 10);
    if (whole) {
      this.filled = whole.length;
      // end() reports any failure; this copy of the promise must not count as unhandled.
      this.schedule().catch(() => undefined);
    }
  }

  /** Bytes received so far, for callers that keep the file (e.g. to cache it). */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.filled);
  }

  /** The file's total size once the header has been read, else undefined. */
  get expectedLength(): number | undefined {
    return this.layout && this.header ? this.layout.dataStart + this.header.dataLength : undefined;
  }

  /** Appends a chunk; resolves once every section it completed has been verified and decoded. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const total = this.expectedLength;
    if (total !== undefined && this.filled + chunk.length > total) {
      this.failed = new KilnError('INVALID_MODEL', `.kiln: the file is longer than the ${total} bytes its header describes`);
      return Promise.reject(this.failed);
    }
    if (this.filled + chunk.length > this.buf.length) this.grow(this.filled + chunk.length);
    this.buf.set(chunk, this.filled);
    this.filled += chunk.length;
    return this.schedule();
  }

  /** All bytes were given: checks that nothing is missing and builds the model. */
  async end(): Promise<KilnBundle> {
    await this.schedule();
    try {
      const { layout, header } = this;
      if (!layout) return readPreamble(this.bytes) as never; // throws the precise truncation error
      if (!header) return fail('INVALID_MODEL', `.kiln: the file is truncated inside its header (${this.filled} of ${layout.dataStart} bytes)`);
      const total = layout.dataStart + header.dataLength;
      if (this.nextSection < header.sections.length) {
        const s = header.sections[this.nextSection]!;
        fail('INVALID_MODEL', `.kiln: the file is truncated: section ${this.nextSection} of ${header.sections.length} needs bytes up to ${layout.dataStart + s.offset + s.byteLength}, the file has ${this.filled}`, { section: this.nextSection });
      }
      if (this.filled !== total) fail('INVALID_MODEL', `.kiln: the file has ${this.filled} bytes, its header describes ${total}`);
      const model = this.modelOf(header, () => fail('INTERNAL', '.kiln: a tensor was not decoded'));
      checkGraphAgainstTable(model, header);
      return { model, spec: header.spec, header, version: { major: layout.major, minor: layout.minor }, signature: this.signature, ...(this.keyId ? { keyId: this.keyId } : {}), byteLength: total };
    } catch (e) {
      throw typedModelError(e);
    }
  }

  /** The graph with the tensors decoded so far; `missing` stands in for the others. */
  private modelOf(header: KilnHeader, missing: (t: HeaderTensor) => AnyTensor): Model {
    const at = (i: number): AnyTensor => this.tensors[i] ?? missing(header.tensors[i]!);
    const initializers = new Map<string, AnyTensor>();
    header.tensors.forEach((t, i) => {
      if (t.role !== 'attribute') initializers.set(t.name, at(i));
    });
    return modelFromHeader(header, initializers, (index, where) => {
      const t = header.tensors[index];
      if (!t || t.role !== 'attribute') fail('INVALID_MODEL', `.kiln header: ${where}: tensor #${index} is not an attribute tensor`);
      return at(index);
    });
  }

  private grow(needed: number): void {
    const grown = new Uint8Array(Math.max(needed, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.filled));
    this.buf = grown;
  }

  private schedule(): Promise<void> {
    const step = this.work.then(() => this.advance());
    this.work = step.catch((e: unknown) => {
      this.failed ??= typedModelError(e);
    });
    return this.work.then(() => {
      if (this.failed) throw this.failed;
    });
  }

  private async advance(): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.layout) {
      if (this.filled < PREAMBLE_BYTES) return;
      this.layout = readPreamble(this.buf.subarray(0, this.filled));
    }
    const layout = this.layout;
    if (!this.header) {
      if (this.filled < layout.dataStart) return;
      // The signature covers the stored header bytes: check it before the (untrusted) JSON is
      // decoded or parsed, so a required signature turns a forged header away at the cost of one verify.
      this.signature = await this.checkSignature(layout);
      const header = await parseHeader(this.buf, layout);
      this.header = header;
      this.bySection = tensorsBySection(header);
      const total = layout.dataStart + header.dataLength;
      if (this.filled > total) fail('INVALID_MODEL', `.kiln: the file is longer than the ${total} bytes its header describes`);
      // From here on the buffer has its final size: the one and only copy of the model.
      if (this.buf.length !== total) {
        const exact = new Uint8Array(total);
        exact.set(this.buf.subarray(0, this.filled));
        this.buf = exact;
      }
      this.events.onHeader?.(header, { signature: this.signature, byteLength: total, modelSoFar: () => this.modelOf(header, (t) => tensorFromBytes(t.dtype as StoredDtype, t.dims, new Uint8Array(t.byteLength))) });
    }
    const header = this.header;
    while (this.nextSection < header.sections.length) {
      const index = this.nextSection;
      const s = header.sections[index]!;
      const start = layout.dataStart + s.offset;
      if (this.filled < start + s.byteLength) return;
      const stored = this.buf.subarray(start, start + s.byteLength);
      const actual = await sha256Hex(stored);
      if (actual !== s.sha256) fail('INTEGRITY', `.kiln: section ${index} failed its SHA-256 check (header ${s.sha256}, data ${actual}): the file is corrupt or was tampered with`, { section: index });
      const raw = s.encoding === 'deflate-raw' ? await inflateRaw(stored, s.rawLength, `.kiln section ${index}`) : stored;
      const decoded = new Map<string, AnyTensor>();
      for (const i of this.bySection[index]!) {
        const t: HeaderTensor = header.tensors[i]!;
        const tensor = tensorFromBytes(t.dtype as StoredDtype, t.dims, raw.subarray(t.offset, t.offset + t.byteLength));
        this.tensors[i] = tensor;
        if (t.role !== 'attribute') decoded.set(t.name, tensor);
      }
      this.nextSection++;
      this.events.onSection?.(index, decoded);
    }
  }

  private async checkSignature(layout: KilnLayout): Promise<SignatureStatus> {
    const { keys, required } = signaturePolicy(this.options);
    if (layout.signatureLength === 0) {
      if (required) fail('INTEGRITY', `.kiln: the bundle is not signed, and a signature is required${this.options.requireSignature ? '' : ' (a publicKey was given; pass allowUnsigned: true to load unsigned bundles)'}`);
      return 'none';
    }
    if (keys.length === 0) return 'unverified';
    const end = PREAMBLE_BYTES + layout.headerLength;
    const message = this.buf.subarray(0, end);
    const signature = this.buf.subarray(end, end + layout.signatureLength);
    for (const key of keys) {
      if (await verifyKiln(message, signature, key)) {
        this.keyId = await keyIdOf(key);
        return 'valid';
      }
    }
    return fail('INTEGRITY', `.kiln: the signature does not match the header (tampered, or signed with ${keys.length > 1 ? 'none of the given keys' : 'another key'})`);
  }
}

/** Each section's tensor-table indices, in table order. */
function tensorsBySection(header: KilnHeader): number[][] {
  const lists = header.sections.map((): number[] => []);
  header.tensors.forEach((t, i) => lists[t.section]!.push(i));
  return lists;
}

/** The table and the graph must agree: every initializer a node reads exists, and no value is both an initializer and a node output. */
function checkGraphAgainstTable(model: Model, header: KilnHeader): void {
  const produced = new Set<string>();
  for (const n of model.graph.nodes) for (const o of n.outputs) if (o) produced.add(o);
  for (const t of header.tensors) {
    if (t.role === 'attribute') continue;
    if (produced.has(t.name)) fail('INVALID_MODEL', `.kiln: tensor '${t.name}' is in the tensor table but node outputs also write it`);
  }
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  for (const n of model.graph.nodes) {
    for (const i of n.inputs) {
      if (i && !produced.has(i) && !inputs.has(i) && !model.graph.initializers.has(i)) {
        fail('INVALID_MODEL', `.kiln: node '${n.name}' reads '${i}', which is not a graph input, a node output, or in the tensor table`);
      }
    }
  }
}
