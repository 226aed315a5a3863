// The script-tag build's lazy chunks (vite.config.ts, iifeChunks): parts that the WebGPU path never
// runs (the wasm backend, telemetry, the .kiln reader) are files of their own beside kiln.iife.js,
// each a classic script that registers its exports in globalThis.__kilnChunks. The build turns
// `import('…')` of those parts into loadIifeChunk(name): a <script> element on the page,
// importScripts in the worker (a classic script: no import() needed, which classic workers of some
// browsers lack). The chunks reach the modules they share with kiln.iife.js (errors, tensors…) through
// globalThis.__kilnShared, which kiln.iife.js fills before any chunk loads, so there is one KilnError
// and one Tensor class.
import { KilnError } from '../../core/errors.ts';

interface ChunkScope { __kilnChunks?: Record<string, unknown>; __kilnScriptUrl?: string }

/**
 * Where kiln.iife.js was loaded from, read while it is first evaluated (only then does currentScript
 * name it); in a worker, its location, or the URL a blob worker's bootstrap left (client.ts, classicWorker).
 */
const SCRIPT_URL: string | undefined = typeof document !== 'undefined' && document.currentScript instanceof HTMLScriptElement
  ? document.currentScript.src
  : (globalThis as ChunkScope).__kilnScriptUrl ?? (typeof location !== 'undefined' ? location.href : undefined);

const loading = new Map<string, Promise<unknown>>();

/** The file of chunk `name`, beside kiln.iife.js (vite.config.ts names them kiln.iife-<name>.js). */
export function iifeChunkUrl(name: string): string {
  if (SCRIPT_URL === undefined) throw new KilnError('DEVICE_UNAVAILABLE', `kiln.iife.js cannot tell where it was loaded from, so it cannot load its ${name} part (kiln.iife-${name}.js)`);
  return new URL(`kiln.iife-${name}.js`, SCRIPT_URL).href;
}

/** A part's exports; a part the page ran itself (its own <script> tag, to fetch it early) is not loaded again. */
export function loadIifeChunk(name: string): Promise<unknown> {
  const present = (globalThis as ChunkScope).__kilnChunks?.[name];
  if (present !== undefined) return Promise.resolve(present);
  let p = loading.get(name);
  if (!p) {
    p = load(name);
    loading.set(name, p);
    p.catch(() => loading.delete(name)); // a failed fetch (offline) may be retried by a later session
  }
  return p;
}

async function load(name: string): Promise<unknown> {
  const url = iifeChunkUrl(name);
  const scope = globalThis as ChunkScope;
  if (typeof document === 'undefined') {
    // A worker running kiln.iife.js: a classic worker, where importScripts is synchronous.
    try {
      importScripts(url);
    } catch (e) {
      throw new KilnError('DEVICE_UNAVAILABLE', `could not load ${url} (offline, or missing beside kiln.iife.js): ${(e as Error).message}`);
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = url;
      script.onload = () => resolve();
      script.onerror = () => reject(new KilnError('DEVICE_UNAVAILABLE', `could not load ${url} (offline, or missing beside kiln.iife.js)`));
      document.head.append(script);
    });
  }
  const exports = scope.__kilnChunks?.[name];
  if (exports === undefined) throw new KilnError('INTERNAL', `${url} loaded but did not register its part '${name}'`);
  return exports;
}
