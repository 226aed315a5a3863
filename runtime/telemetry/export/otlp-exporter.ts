// Delivers queued OTLP batches: gzip, bearer key, the batch's idempotency id in BATCH_ID_HEADER,
// oldest first. Failures: network errors (offline) wait and retry without limit; 408, 429 and 5xx
// retry with exponential backoff and jitter, or after Retry-After when the server says, up to
// MAX_ATTEMPTS; any other 4xx is final (the batch is dropped and counted as rejected).
import { BATCH_ID_HEADER } from '../otlp-schema.ts';
import { batchId, type BatchQueue, type QueuedBatch } from './batch-queue.ts';

export const MAX_ATTEMPTS = 8;
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 5 * 60_000;
/** Retry-After beyond this is treated as this (a misconfigured server must not park data for days). */
export const RETRY_AFTER_MAX_MS = 60 * 60_000;
export const SEND_TIMEOUT_MS = 15_000;
/** fetch keepalive (used while the page unloads) refuses bodies over 64 KiB */
const KEEPALIVE_MAX_BYTES = 60_000;

export interface ExporterOptions {
  readonly endpoint: string;
  readonly apiKey?: string;
  readonly maxQueuedBatches: number;
  readonly queue: BatchQueue;
  /** the backoff jitter's source (default Math.random); tests inject a seeded one */
  readonly random?: () => number;
  /** the clock for retry times (default Date.now); tests inject one so they never wait out a backoff */
  readonly now?: () => number;
}

export interface DeliveryResult {
  readonly sent: number;
  readonly queued: number;
}

export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - nowMs;
  return Number.isFinite(ms) ? Math.min(RETRY_AFTER_MAX_MS, Math.max(0, ms)) : undefined;
}

let seqCounter = 0;

export class OtlpExporter {
  sentBatches = 0;
  rejectedBatches = 0;
  droppedBatches = 0;
  lastError: string | undefined;
  private unreportedDrops = 0;
  private running: Promise<DeliveryResult> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: ExporterOptions) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  get durable(): boolean {
    return this.options.queue.durable;
  }

  /**
   * Queues request bodies as batches, each with its own idempotency id: `ids[i]` when given (a
   * draft becoming final keeps its id), else a new one. Drafts (`holdUntil`) wait until then: their
   * session refreshes them while it lives; when it dies, whoever delivers next sends them.
   */
  async enqueue(bodies: readonly string[], ids: readonly string[] = [], holdUntil = 0): Promise<string[]> {
    const used: string[] = [];
    for (const [i, body] of bodies.entries()) {
      const batch: QueuedBatch = { id: ids[i] ?? batchId(), endpoint: this.options.endpoint, body, seq: Date.now() * 1000 + (seqCounter++ % 1000), attempts: 0, notBefore: holdUntil };
      const dropped = await this.options.queue.push(batch, this.options.maxQueuedBatches);
      this.droppedBatches += dropped;
      this.unreportedDrops += dropped;
      used.push(batch.id);
    }
    for (const id of ids.slice(bodies.length)) await this.options.queue.remove(id); // a draft part no longer needed
    return used;
  }

  /** Drops not yet reported in a batch (reported as kiln.telemetry.dropped, then reset). */
  takeDrops(): number {
    const n = this.unreportedDrops;
    this.unreportedDrops = 0;
    return n;
  }

  async queued(): Promise<number> {
    return (await this.options.queue.list(this.options.endpoint)).length;
  }

  /**
   * Sends every batch that is due, oldest first; one delivery at a time. `retryOffline`: batches
   * waiting only because the network failed go now (a new page, the browser back online); a
   * server's Retry-After is always honoured.
   */
  deliver(opts: { keepalive?: boolean; retryOffline?: boolean } = {}): Promise<DeliveryResult> {
    const previous = this.running ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.deliverNow(opts.keepalive ?? false, opts.retryOffline ?? false));
    this.running = next;
    return next;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async deliverNow(keepalive: boolean, retryOffline: boolean): Promise<DeliveryResult> {
    let sent = 0;
    const batches = await this.options.queue.list(this.options.endpoint);
    let remaining = batches.length;
    for (const batch of batches) {
      if (this.closed && !keepalive) break;
      const waiting = batch.notBefore > this.now() && !(retryOffline && batch.offline === true);
      if (waiting) break; // keep order: nothing overtakes a waiting batch
      const outcome = await this.send(batch, keepalive);
      if (outcome === 'sent' || outcome === 'rejected') {
        await this.options.queue.remove(batch.id);
        remaining--;
        if (outcome === 'sent') sent++;
        continue;
      }
      await this.options.queue.update(batch);
      break; // the collector is unreachable or busy: the rest waits too
    }
    this.schedule(await this.options.queue.list(this.options.endpoint));
    return { sent, queued: remaining };
  }

  private schedule(batches: readonly QueuedBatch[]): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || batches.length === 0) return;
    const wait = Math.max(100, batches[0]!.notBefore - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.deliver().catch(() => undefined);
    }, wait);
    (this.timer as { unref?: () => void }).unref?.(); // Node: a pending retry must not keep the process alive
  }

  private backoff(attempts: number): number {
    const d = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(20, attempts - 1));
    return d / 2 + (this.random() * d) / 2; // jitter, so many clients coming back online do not retry in step
  }

  private async send(batch: QueuedBatch, keepalive: boolean): Promise<'sent' | 'rejected' | 'retry'> {
    const body = await gzip(batch.body);
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', [BATCH_ID_HEADER]: batch.id };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    batch.attempts++;
    let response: Response;
    try {
      // A collector that never answers must not hold the queue (or a session's release) forever.
      response = await fetch(this.options.endpoint, { method: 'POST', headers, body, keepalive: keepalive && body.byteLength <= KEEPALIVE_MAX_BYTES, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
    } catch (e) {
      // Offline or refused: wait and try again, however long it takes (the queue cap bounds storage).
      this.lastError = `network: ${e instanceof Error ? e.message : String(e)}`;
      batch.notBefore = this.now() + this.backoff(Math.min(batch.attempts, 9));
      batch.offline = true;
      return 'retry';
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) {
      this.sentBatches++;
      this.lastError = undefined;
      return 'sent';
    }
    this.lastError = `HTTP ${response.status} from ${this.options.endpoint}`;
    const retriable = response.status === 408 || response.status === 429 || response.status >= 500;
    if (!retriable || batch.attempts >= MAX_ATTEMPTS) {
      this.rejectedBatches++;
      return 'rejected';
    }
    batch.notBefore = this.now() + (retryAfterMs(response.headers.get('Retry-After'), this.now()) ?? this.backoff(batch.attempts));
    batch.offline = false;
    return 'retry';
  }
}
