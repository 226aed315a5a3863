// Offline model storage for the demo: bundles live in the Cache API, one entry per (name, version),
// and a small pointer per name in localStorage says which version is active and which one is
// downloaded and waiting. The pointer is one localStorage write, so the swap is atomic: a load sees
// either the old version or the new one, never a mix, and a version is only pointed at after its
// bytes were written whole and matched the manifest's SHA-256. Every read is hashed again; a copy
// that fails is evicted and never used.
//
//   first load:   download (foreground) -> verify -> store -> active = v1
//   manifest v2:  use v1 now; download v2 in the background -> verify -> store -> pending = v2
//   next load:    pending verifies -> active = v2 (one write) -> delete v1
import { fail } from '../../../core/errors.ts';
import { fetchModel } from '../../../runtime/loading/fetch-model.ts';
import { sha256Hex } from '../../../core/sha256.ts';
import type { ModelEntry } from './manifest.ts';
import { StorageQuotaError, isQuotaError } from './storage-errors.ts';

export const MODEL_STORE_CACHE = 'kiln-demo-models-v1';
const POINTER_PREFIX = 'kiln-demo-model:';

interface Pointer {
  readonly active?: ModelEntry;
  readonly pending?: ModelEntry;
}

export interface LoadedModel {
  /** the version whose bytes these are (may be older than the manifest's while an update downloads) */
  readonly entry: ModelEntry;
  readonly bytes: Uint8Array;
  readonly from: 'cache' | 'network';
  /** set when the model runs but could not be kept offline (quota) */
  readonly notStored?: StorageQuotaError;
  /** resolves when a newer version is stored and will be used on the next load; undefined if none is needed */
  readonly update?: Promise<ModelEntry>;
}

export interface LoadOptions {
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

const sameBytes = (a: ModelEntry, b: ModelEntry): boolean => a.version === b.version && a.sha256 === b.sha256;

export class ModelStore {
  /** names loaded since the page opened: a pending version swaps in only on a page's first load of it */
  private readonly loadedThisPage = new Set<string>();

  constructor(
    /** the manifest's URL: entry URLs are relative to it */
    private readonly base: string,
    private readonly cacheName = MODEL_STORE_CACHE,
  ) {}

  /** Bytes of `latest.name` to run now: the stored version when it verifies, else a download of `latest`. */
  async load(latest: ModelEntry, options: LoadOptions = {}): Promise<LoadedModel> {
    const cache = await caches.open(this.cacheName);
    let pointer = await this.verifiedPointer(cache, latest.name);
    if (!this.loadedThisPage.has(latest.name)) pointer = this.promotePending(latest.name, pointer);
    this.loadedThisPage.add(latest.name);
    await this.collectGarbage(cache, latest.name, pointer);

    const active = pointer.active;
    const stored = active ? await this.read(cache, active) : undefined;
    if (active && stored) {
      const update = sameBytes(active, latest) || (pointer.pending && sameBytes(pointer.pending, latest)) ? undefined : this.downloadInBackground(cache, latest);
      return { entry: active, bytes: stored, from: 'cache', ...(update ? { update } : {}) };
    }
    // Nothing usable stored: download in the foreground, keep it if the browser lets us.
    const bytes = await this.download(latest, options);
    try {
      await this.write(cache, latest, bytes);
      pointer = { active: latest };
      this.setPointer(latest.name, pointer);
      return { entry: latest, bytes, from: 'network' };
    } catch (e) {
      if (e instanceof StorageQuotaError) return { entry: latest, bytes, from: 'network', notStored: e };
      throw e;
    }
  }

  /** Version numbers per name as stored now (for the page's "model versions" line and tests). */
  pointer(name: string): { active?: string; pending?: string } {
    const p = this.getPointer(name);
    return { ...(p.active ? { active: p.active.version } : {}), ...(p.pending ? { pending: p.pending.version } : {}) };
  }

  private keyOf(entry: ModelEntry): string {
    return new URL(`/kiln-model-store/${encodeURIComponent(entry.name)}/${encodeURIComponent(entry.version)}/${entry.sha256}`, location.origin).href;
  }

  private async read(cache: Cache, entry: ModelEntry): Promise<Uint8Array | undefined> {
    const response = await cache.match(this.keyOf(entry)).catch(() => undefined);
    if (!response) return undefined;
    const bytes = await response.arrayBuffer().then((b) => new Uint8Array(b), () => undefined);
    if (bytes && bytes.length === entry.bytes && (await sha256Hex(bytes)) === entry.sha256) return bytes;
    console.warn(`Kiln demo: the stored copy of ${entry.name} ${entry.version} is damaged; downloading it again`);
    await cache.delete(this.keyOf(entry));
    return undefined;
  }

  private async download(entry: ModelEntry, options: LoadOptions): Promise<Uint8Array> {
    const url = new URL(entry.url, this.base).href;
    // fetchModel streams with progress and checks the SHA-256; our own store replaces its cache.
    const bytes = await fetchModel(url, { cache: false, sha256: entry.sha256, ...options });
    if (bytes.length !== entry.bytes) fail('INVALID_MODEL', `${url} has ${bytes.length} bytes, the manifest says ${entry.bytes}`);
    return bytes;
  }

  private async write(cache: Cache, entry: ModelEntry, bytes: Uint8Array): Promise<void> {
    const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
    const free = estimate?.quota !== undefined && estimate.usage !== undefined ? estimate.quota - estimate.usage : undefined;
    if (free !== undefined && free < entry.bytes) throw new StorageQuotaError(`${entry.name} ${entry.version}`, entry.bytes - free, free);
    const body = new Uint8Array(bytes); // a copy: the caller's bytes may be transferred to a worker
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(entry.bytes) };
    try {
      await cache.put(this.keyOf(entry), new Response(body, { headers }));
    } catch (e) {
      if (isQuotaError(e)) throw new StorageQuotaError(`${entry.name} ${entry.version}`, entry.bytes, free);
      throw e;
    }
  }

  private downloadInBackground(cache: Cache, latest: ModelEntry): Promise<ModelEntry> {
    const update = (async () => {
      const bytes = await this.download(latest, {});
      await this.write(cache, latest, bytes);
      // Written whole and verified: only now may the next load point at it.
      const current = this.getPointer(latest.name);
      this.setPointer(latest.name, { ...current, pending: latest });
      return latest;
    })();
    // The caller attaches its handler after the session starts; until then a failure is expected, not unhandled.
    update.catch(() => undefined);
    return update;
  }

  /** A pending version that is stored intact becomes active (the atomic swap); a broken one is dropped. */
  private promotePending(name: string, pointer: Pointer): Pointer {
    if (!pointer.pending) return pointer;
    const next: Pointer = { active: pointer.pending };
    this.setPointer(name, next);
    return next;
  }

  /** The pointer with every version whose stored bytes are missing or damaged removed. */
  private async verifiedPointer(cache: Cache, name: string): Promise<Pointer> {
    const p = this.getPointer(name);
    const pendingOk = p.pending ? (await this.read(cache, p.pending)) !== undefined : false;
    const out: Pointer = { ...(p.active ? { active: p.active } : {}), ...(pendingOk && p.pending ? { pending: p.pending } : {}) };
    if (p.pending && !pendingOk) this.setPointer(name, out);
    return out;
  }

  /** Deletes stored versions of `name` that the pointer no longer names (the old one after a swap). */
  private async collectGarbage(cache: Cache, name: string, pointer: Pointer): Promise<void> {
    const keep = new Set([pointer.active, pointer.pending].filter((e): e is ModelEntry => e !== undefined).map((e) => this.keyOf(e)));
    const prefix = new URL(`/kiln-model-store/${encodeURIComponent(name)}/`, location.origin).href;
    for (const request of await cache.keys()) {
      if (request.url.startsWith(prefix) && !keep.has(request.url)) await cache.delete(request);
    }
  }

  private getPointer(name: string): Pointer {
    try {
      const raw = localStorage.getItem(POINTER_PREFIX + name);
      return raw ? (JSON.parse(raw) as Pointer) : {};
    } catch {
      return {};
    }
  }

  private setPointer(name: string, p: Pointer): void {
    localStorage.setItem(POINTER_PREFIX + name, JSON.stringify(p));
  }
}
