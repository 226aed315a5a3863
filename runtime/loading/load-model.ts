// From a model source to a Model: .kiln bundles are recognised by their magic (never by file
// extension) and read with their hashes and signature checked (while they stream, for URLs);
// anything else goes to the ONNX reader (with its external-data files).
import { fail } from '../../core/errors.ts';
import { signaturePolicy } from '../format/kiln/kiln-signature.ts';
import { hasKilnMagic } from '../format/kiln/kiln-layout.ts';
import type { KilnBundle, KilnReadOptions, KilnStreamEvents, KilnStreamReader } from '../format/kiln/kiln-reader.ts';
import type { OnnxStreamEvents, OnnxStreamOutcome, OnnxStreamReader } from '../format/onnx/onnx-stream.ts';
import type { Model } from '../graph/ir.ts';
import { fixFreeDimensions, type FreeDimensionOverrides } from '../graph/free-dimensions.ts';
import { loadModelBytes, loadSibling, type ModelSource } from '../api/model-source.ts';
import type { FetchModelOptions } from './fetch-model.ts';
import { sniffingSink } from './kiln-sink.ts';

export interface LoadModelOptions extends Omit<FetchModelOptions, 'sink'>, KilnReadOptions {
  externalData?: readonly { path: string; data: Uint8Array | ArrayBuffer }[];
  /** .kiln: told when the header has been checked and as each section is verified */
  kilnEvents?: KilnStreamEvents;
  /** ONNX downloads: told when the nodes have arrived and as each initializer is complete */
  onnxEvents?: OnnxStreamEvents;
  /** symbolic graph-input dims fixed by name (free-dimensions.ts; checked by the caller) */
  freeDimensionOverrides?: FreeDimensionOverrides | undefined;
}

export interface LoadedModel {
  readonly model: Model;
  /** the file as loaded (hashed for the Cache API and for remembering backend choices) */
  readonly bytes: Uint8Array;
  /** present for .kiln bundles */
  readonly bundle?: KilnBundle;
  /** cold-start telemetry: getting the bytes (a streamed .kiln is checked meanwhile), then reading them */
  readonly timings: { readonly fetchMs: number; readonly parseMs: number };
  /** ONNX downloads (debugging): read while they streamed, or read whole after, and why; whether the shapes came early, and why */
  readonly onnxStream?: OnnxStreamOutcome | undefined;
}

/** The .kiln reader is loaded when a bundle shows up: ONNX-only pages never download it (lazy chunks, docs/decisions.md "bundle"). */
const kilnReader = () => import('../format/kiln/kiln-reader.ts');
/** Likewise the ONNX reader (with its protobuf decoder): .kiln pages never download it. */
const onnxReader = () => import('../format/onnx/onnx-reader.ts');

export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  signaturePolicy(options); // contradictory signature options fail before any download
  let streamed: KilnStreamReader | undefined;
  let onnxStream: OnnxStreamReader | undefined;
  // An ONNX download loads its reader at its first bytes and is decoded while it streams.
  const sink = (total: number, response?: Response) => sniffingSink(total, async () => (streamed = new (await kilnReader()).KilnStreamReader(options, options.kilnEvents)), async () => (onnxStream = (await onnxReader()).onnxStreamReader(total, options.onnxEvents, response, options.freeDimensionOverrides)));
  const started = performance.now();
  const bytes = await loadModelBytes(source, { ...options, sink }).catch((e: unknown) => {
    onnxStream?.end(); // stops its Range requests (onnx-early.ts)
    throw e;
  });
  const fetched = performance.now();
  const timings = (): LoadedModel['timings'] => ({ fetchMs: fetched - started, parseMs: performance.now() - fetched });
  if (streamed || hasKilnMagic(bytes)) {
    // Bytes (a path, a cache hit, a caller's buffer) are read whole, with the same events.
    const bundle = streamed ? await streamed.end() : await (await kilnReader()).readKilnBundle(bytes, options, options.kilnEvents);
    return { model: fixFreeDimensions(bundle.model, options.freeDimensionOverrides), bytes, bundle, timings: timings() };
  }
  // ONNX files carry no signature: an app that requires one (or gave a key) must not silently accept them.
  if (signaturePolicy(options).required) fail('INTEGRITY', 'a signature is required, but this is an ONNX model (only .kiln bundles are signed; allowUnsigned: true opts out)');
  const given = new Map((options.externalData ?? []).map((e) => [e.path, e.data instanceof Uint8Array ? e.data : new Uint8Array(e.data)]));
  const { model, outcome } = await (await onnxReader()).readOnnx(onnxStream ?? bytes, async (loc) => given.get(loc) ?? loadSibling(source, loc));
  return { model: fixFreeDimensions(model, options.freeDimensionOverrides), bytes, timings: timings(), onnxStream: outcome };
}
