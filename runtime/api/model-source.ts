import { fail } from '../core/errors.ts';

export type ModelSource = Uint8Array | ArrayBuffer | string;

/** Reads a local path (Node registers one; browsers have none and fetch instead). */
type FileReader = (path: string) => Promise<Uint8Array>;
let fileReader: FileReader | undefined;

export function setFileReader(r: FileReader): void {
  fileReader = r;
}

export async function loadModelBytes(source: ModelSource, signal?: AbortSignal): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source !== 'string') return fail('INVALID_ARGUMENT', 'a model source must be bytes (Uint8Array/ArrayBuffer) or a URL or path string');
  const isUrl = /^(https?:|blob:|data:)/.test(source) || (fileReader === undefined && typeof fetch === 'function');
  if (!isUrl && fileReader) return fileReader(source);
  let response: Response;
  try {
    response = await fetch(source, signal ? { signal } : {});
  } catch (e) {
    return fail('INVALID_ARGUMENT', `could not fetch the model from ${source}: ${(e as Error).message} (network error or CORS)`);
  }
  if (!response.ok) return fail('INVALID_ARGUMENT', `fetching the model from ${source} failed: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Resolves external-data file names relative to a model path (Node) or URL. */
export async function loadSibling(modelSource: ModelSource, name: string): Promise<Uint8Array> {
  if (typeof modelSource !== 'string') return fail('INVALID_ARGUMENT', `external data '${name}' needs options.externalData when the model is given as bytes`);
  const base = modelSource.replace(/[^/\\]*$/, '');
  return loadModelBytes(base + name);
}
