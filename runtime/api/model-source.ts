import { fail } from '../../core/errors.ts';
import { checkExternalLocation } from '../format/onnx/external-location.ts';
import { fetchModel, type FetchModelOptions } from '../loading/fetch-model.ts';

export type ModelSource = Uint8Array | ArrayBuffer | string;

/** Reads a local path (Node registers one; browsers have none and fetch instead). */
type FileReader = (path: string) => Promise<Uint8Array>;
let fileReader: FileReader | undefined;

export function setFileReader(r: FileReader): void {
  fileReader = r;
}

/** Reads an external-data file beside a model path, kept inside the model's folder (Node registers one). */
type SiblingReader = (modelPath: string, location: string) => Promise<Uint8Array>;
let siblingReader: SiblingReader | undefined;

export function setSiblingReader(r: SiblingReader): void {
  siblingReader = r;
}

const isUrlSource = (source: string): boolean => /^(https?:|blob:|data:)/.test(source) || (fileReader === undefined && typeof fetch === 'function');

export async function loadModelBytes(source: ModelSource, options: FetchModelOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source !== 'string') return fail('INVALID_ARGUMENT', 'a model source must be bytes (Uint8Array/ArrayBuffer) or a URL or path string');
  if (!isUrlSource(source) && fileReader) return fileReader(source);
  return fetchModel(source, options); // streamed with progress, kept in the Cache API where there is one
}

/** Resolves external-data file names relative to a model path (Node) or URL, never outside its folder. */
export async function loadSibling(modelSource: ModelSource, name: string): Promise<Uint8Array> {
  if (typeof modelSource !== 'string') return fail('INVALID_ARGUMENT', `external data '${name}' needs options.externalData when the model is given as bytes`);
  checkExternalLocation(name, 'external data');
  if (isUrlSource(modelSource)) return loadModelBytes(siblingUrl(modelSource, name));
  if (siblingReader) return siblingReader(modelSource, name);
  return fail('INVALID_ARGUMENT', `external data '${name}': this build cannot read files beside '${modelSource}'`);
}

/** The sibling's URL, refused when it leaves the model URL's directory or origin. */
export function siblingUrl(modelUrl: string, name: string): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  // Relative model URLs (Node's fetch without a page) are judged against a stand-in origin.
  const model = new URL(modelUrl, page ?? 'http://kiln.invalid/');
  const target = new URL(name, model);
  const folder = model.pathname.replace(/[^/]*$/, '');
  if (target.origin !== model.origin || target.protocol !== model.protocol || !target.pathname.startsWith(folder)) {
    fail('INVALID_MODEL', `external data location '${name}' resolves to ${target.href}, outside the model's folder ${model.origin}${folder}`, { location: name });
  }
  return model.host === 'kiln.invalid' && !page ? modelUrl.replace(/[^/]*$/, '') + name : target.href;
}
