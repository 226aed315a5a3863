// Batches waiting to be delivered. In browsers (pages and workers) they live in IndexedDB, so a
// batch made offline, or while the page was closing, is sent by a later session of the same
// origin; elsewhere (Node) in memory. The queue is capped per endpoint: when full, the oldest batch
// is dropped and counted (reported as kiln.telemetry.dropped with the next batch).

export interface QueuedBatch {
  /** the idempotency id, fixed when the batch was made: the same on every retry and reload */
  readonly id: string;
  readonly endpoint: string;
  /** OTLP JSON text (gzipped when sent) */
  readonly body: string;
  /** order of creation */
  readonly seq: number;
  attempts: number;
  /** earliest time (ms since epoch) the next attempt may happen (Retry-After, backoff) */
  notBefore: number;
  /** the last attempt failed on the network (no answer), so a new page or 'online' may retry early */
  offline?: boolean;
}

export interface BatchQueue {
  /** Adds a batch; drops the oldest of that endpoint beyond `cap`. Resolves with how many were dropped. */
  push(batch: QueuedBatch, cap: number): Promise<number>;
  /** The endpoint's batches, oldest first. */
  list(endpoint: string): Promise<QueuedBatch[]>;
  update(batch: QueuedBatch): Promise<void>;
  remove(id: string): Promise<void>;
  readonly durable: boolean;
}

export class MemoryQueue implements BatchQueue {
  readonly durable = false;
  private readonly batches = new Map<string, QueuedBatch>();

  async push(batch: QueuedBatch, cap: number): Promise<number> {
    this.batches.set(batch.id, { ...batch });
    const mine = await this.list(batch.endpoint);
    const extra = mine.slice(0, Math.max(0, mine.length - cap));
    for (const b of extra) this.batches.delete(b.id);
    return extra.length;
  }

  async list(endpoint: string): Promise<QueuedBatch[]> {
    return [...this.batches.values()].filter((b) => b.endpoint === endpoint).sort((a, b) => a.seq - b.seq).map((b) => ({ ...b }));
  }

  async update(batch: QueuedBatch): Promise<void> {
    if (this.batches.has(batch.id)) this.batches.set(batch.id, { ...batch });
  }

  async remove(id: string): Promise<void> {
    this.batches.delete(id);
  }
}

export const IDB_NAME = 'kiln-telemetry';
const STORE = 'batches';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export class IndexedDbQueue implements BatchQueue {
  readonly durable = true;

  private constructor(private readonly db: IDBDatabase) {}

  /** undefined where IndexedDB is missing or refuses (private mode, storage disabled). */
  static async open(): Promise<IndexedDbQueue | undefined> {
    const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!idb) return undefined;
    try {
      const open = idb.open(IDB_NAME, 1);
      open.onupgradeneeded = () => {
        const store = open.result.createObjectStore(STORE, { keyPath: 'id' });
        store.createIndex('endpoint', 'endpoint');
      };
      return new IndexedDbQueue(await request(open));
    } catch {
      return undefined;
    }
  }

  async push(batch: QueuedBatch, cap: number): Promise<number> {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    store.put(batch);
    const all = (await request(store.index('endpoint').getAll(batch.endpoint))) as QueuedBatch[];
    all.sort((a, b) => a.seq - b.seq);
    const extra = all.slice(0, Math.max(0, all.length - cap));
    for (const b of extra) store.delete(b.id);
    await done(tx);
    return extra.length;
  }

  async list(endpoint: string): Promise<QueuedBatch[]> {
    const tx = this.db.transaction(STORE, 'readonly');
    const all = (await request(tx.objectStore(STORE).index('endpoint').getAll(endpoint))) as QueuedBatch[];
    return all.sort((a, b) => a.seq - b.seq);
  }

  async update(batch: QueuedBatch): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    // Another tab may have delivered it meanwhile: only rewrite a batch that is still there.
    if ((await request(store.getKey(batch.id))) !== undefined) store.put(batch);
    await done(tx);
  }

  async remove(id: string): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(id);
    await done(tx);
  }
}

/** A random UUID (v4) from getRandomValues, which, unlike randomUUID, works outside secure contexts. */
export function batchId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
