import { fail } from '../../core/errors.ts';
import { fetchModel, type FetchModelOptions } from '../loading/fetch-model.ts';

export type ModelSource = Uint8Array | ArrayBuffer | string;

/** Reads a local path (Node registers one; browsers have none and fetch instead). */
type FileReader = (path: string) => Promise<Uint8Array>;
let fileReader: FileReader | undefined;

export function setFileReader(r: FileReader): void {
  fileReader = r;
}

export async function loadModelBytes(source: ModelSource, options: FetchModelOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source !== 'string') return fail('INVALID_ARGUMENT', 'a model source must be bytes (Uint8Array/ArrayBuffer) or a URL or path string');
  const isUrl = /^(https?:|blob:|data:)/.test(source) || (fileReader === undefined && typeof fetch === 'function');
  if (!isUrl && fileReader) return fileReader(source);
  return fetchModel(source, options); // streamed with progress, kept in the Cache API where there is one
}

/** Resolves external-data file names relative to a model path (Node) or URL. */
export async function loadSibling(modelSource: ModelSource, name: string): Promise<Uint8Array> {
  if (typeof modelSource !== 'string') return fail('INVALID_ARGUMENT', `external data '${name}' needs options.externalData when the model is given as bytes`);
  const base = modelSource.replace(/[^/\\]*$/, '');
  return loadModelBytes(base + name);
}
