// Model downloads in browsers (and Node for http URLs): streamed with progress, cancellable, and kept
// in the Cache API so the second load of the same URL makes no network request. Every cache hit is
// checked against the SHA-256 stored with it; a copy that fails the check is evicted and fetched
// again, never used. A download is only written to the cache once the session could read it
// (commitModelCache), so a non-model file or a cut-off download never lands there.
import { fail } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';

export interface FetchModelOptions {
  signal?: AbortSignal;
  /** bytes received so far and the expected total (0 when the server does not say) */
  onProgress?: (loaded: number, total: number) => void;
  /** keep http(s) models in the Cache API (default true where `caches` exists) */
  cache?: boolean;
  /** expected SHA-256 of the model (hex): checked on download and on every cache hit */
  sha256?: string;
  /**
   * Takes the download chunk by chunk instead of a plain buffer (the .kiln reader parses and
   * verifies while it streams); given the expected length (0 when unknown) and the response (its
   * headers say whether Range requests may read ahead). Not used for cache hits.
   */
  sink?: (total: number, response?: Response) => DownloadSink;
}

/** Where a download's chunks go; a rejected write stops the download with that error. */
export interface DownloadSink {
  write(chunk: Uint8Array): Promise<void> | void;
  /** the whole body, once every chunk was written */
  bytes(): Uint8Array;
}

/** Cache API bucket; bump the suffix when the stored layout changes. */
export const MODEL_CACHE_NAME = 'kiln-models-v1';
/** header of a cached response holding the SHA-256 of its body */
export const MODEL_HASH_HEADER = 'x-kiln-sha256';

const pendingWrites = new WeakMap<Uint8Array, () => Promise<void>>();

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Resolves `source` against the page or worker location (the cache key is the absolute URL). */
export function absoluteUrl(source: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(source, base).href;
  } catch {
    return base ? fail('INVALID_ARGUMENT', `'${source}' is not a valid model URL`) : source; // Node without a base: let fetch judge it
  }
}

export async function fetchModel(source: string, options: FetchModelOptions = {}): Promise<Uint8Array> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const url = absoluteUrl(source);
  const expected = options.sha256?.toLowerCase();
  const cache = options.cache !== false && /^https?:/i.test(url) ? await openModelCache() : undefined;
  if (cache) {
    const hit = await readCached(cache, url, expected, signal);
    if (hit) {
      onProgress?.(hit.length, hit.length);
      return hit;
    }
  }
  const bytes = await download(url, signal, onProgress, options.sink);
  if (expected !== undefined || cache) {
    const actual = await sha256Hex(bytes);
    if (expected !== undefined && actual !== expected) fail('INVALID_MODEL', `the model downloaded from ${url} has SHA-256 ${actual}, expected ${expected}`);
    if (cache) pendingWrites.set(bytes, () => store(cache, url, bytes, actual));
  }
  return bytes;
}

/** Writes a downloaded model to the cache; call it once the model was read successfully. */
export async function commitModelCache(bytes: Uint8Array): Promise<void> {
  const write = pendingWrites.get(bytes);
  pendingWrites.delete(bytes);
  await write?.();
}

export async function openModelCache(): Promise<Cache | undefined> {
  if (typeof caches === 'undefined') return undefined;
  try {
    return await caches.open(MODEL_CACHE_NAME);
  } catch {
    return undefined; // opaque origins and insecure contexts have no Cache API: download every time
  }
}

async function readCached(cache: Cache, url: string, expected: string | undefined, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  const response = await cache.match(url).catch(() => undefined);
  if (!response) return undefined;
  const stored = response.headers.get(MODEL_HASH_HEADER);
  const bytes = await response.arrayBuffer().then((b) => new Uint8Array(b), () => undefined);
  signal?.throwIfAborted();
  const actual = bytes && (await sha256Hex(bytes));
  if (bytes && stored && actual === stored && (expected === undefined || expected === actual)) return bytes;
  const why = !bytes ? 'could not be read' : !stored ? 'has no SHA-256' : actual !== stored ? `failed its SHA-256 check (stored ${stored}, computed ${actual})` : `is not the expected version (SHA-256 ${actual}, expected ${expected})`;
  console.warn(`kiln: the cached copy of ${url} ${why}; evicting it and downloading again`);
  await cache.delete(url).catch(() => false);
  return undefined;
}

async function download(url: string, signal: AbortSignal | undefined, onProgress: FetchModelOptions['onProgress'], makeSink: NonNullable<FetchModelOptions['sink']> = bufferSink): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    return fail('INVALID_ARGUMENT', `could not fetch the model from ${url}: ${messageOf(e)} (network error, or the server does not allow this origin: CORS)`);
  }
  if (!response.ok) return fail('INVALID_ARGUMENT', `fetching the model from ${url} failed: HTTP ${response.status} ${response.statusText}`.trim());
  // With Content-Encoding the length counts compressed bytes, not what the stream yields.
  const length = Number(response.headers.get('content-length'));
  let total = !response.headers.get('content-encoding') && Number.isFinite(length) && length > 0 ? length : 0;
  onProgress?.(0, total);
  const sink = makeSink(total, response);
  let loaded = 0;
  // The sink's own errors (a corrupt .kiln section, say) stop the download and pass through as they are.
  let sinkError: { error: unknown } | undefined;
  const give = async (chunk: Uint8Array): Promise<void> => {
    try {
      await sink.write(chunk);
    } catch (error) {
      sinkError = { error };
      throw error;
    }
  };
  try {
    if (!response.body) {
      const whole = new Uint8Array(await response.arrayBuffer());
      await give(whole);
      loaded = whole.length;
    } else {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await give(value).catch(async (e: unknown) => {
          await reader.cancel().catch(() => undefined);
          throw e;
        });
        loaded += value.length;
        if (loaded > total) total = 0; // the server's length was wrong: say "unknown"
        onProgress?.(loaded, total);
      }
    }
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (sinkError) throw sinkError.error;
    return fail('INVALID_ARGUMENT', `the download of ${url} broke off after ${loaded} bytes: ${messageOf(e)}`);
  }
  return sink.bytes();
}

/** The default sink: one buffer, sized from Content-Length when there is one. */
export function bufferSink(total: number): DownloadSink {
  let buf = new Uint8Array(total || 1 << 20);
  let loaded = 0;
  return {
    write(chunk) {
      if (loaded + chunk.length > buf.length) {
        const grown = new Uint8Array(Math.max(buf.length * 2, loaded + chunk.length));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(chunk, loaded);
      loaded += chunk.length;
    },
    bytes: () => (loaded === buf.length ? buf : buf.slice(0, loaded)),
  };
}

async function store(cache: Cache, url: string, bytes: Uint8Array, sha256: string): Promise<void> {
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength), [MODEL_HASH_HEADER]: sha256 };
  try {
    // Response bodies cannot be SharedArrayBuffer views: those (only) are copied.
    const body = bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.slice();
    await cache.put(url, new Response(body, { headers }));
  } catch (e) {
    // Quota errors and the like: the model still runs, it is just downloaded again next time.
    console.warn(`kiln: could not keep ${url} in the Cache API (${messageOf(e)}); it will be downloaded again next time`);
  }
}
