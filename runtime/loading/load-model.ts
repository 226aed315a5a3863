// From a model source to a Model: .kiln bundles are recognised by their magic (never by file
// extension) and read with their hashes and signature checked; anything else goes to the ONNX
// reader (with its external-data files).
import { fail } from '../core/errors.ts';
import { hasKilnMagic } from '../format/kiln/kiln-header.ts';
import { readKilnBundle, type KilnBundle, type KilnReadOptions } from '../format/kiln/kiln-reader.ts';
import { readOnnxModelWithExternalData } from '../format/onnx/onnx-reader.ts';
import type { Model } from '../graph/ir.ts';
import { loadModelBytes, loadSibling, type ModelSource } from '../api/model-source.ts';
import type { FetchModelOptions } from './fetch-model.ts';

export interface LoadModelOptions extends FetchModelOptions, KilnReadOptions {
  externalData?: readonly { path: string; data: Uint8Array | ArrayBuffer }[];
}

export interface LoadedModel {
  readonly model: Model;
  /** the file as loaded (hashed for the Cache API and for remembering backend choices) */
  readonly bytes: Uint8Array;
  /** present for .kiln bundles */
  readonly bundle?: KilnBundle;
}

export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const bytes = await loadModelBytes(source, options);
  if (hasKilnMagic(bytes)) {
    const bundle = await readKilnBundle(bytes, options);
    return { model: bundle.model, bytes, bundle };
  }
  // ONNX files carry no signature: an app that requires one must not silently accept them.
  if (options.requireSignature) fail('INTEGRITY', 'a signature is required, but this is an ONNX model (only .kiln bundles are signed)');
  const given = new Map((options.externalData ?? []).map((e) => [e.path, e.data instanceof Uint8Array ? e.data : new Uint8Array(e.data)]));
  const model = await readOnnxModelWithExternalData(bytes, async (loc) => given.get(loc) ?? loadSibling(source, loc));
  return { model, bytes };
}
