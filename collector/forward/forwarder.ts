// Re-posts accepted batches to an upstream OTLP/HTTP endpoint from the durable outbox (written in
// the same transaction as the batch), so a batch accepted here reaches the upstream even across
// restarts and upstream outages. Runs beside ingest, never in its path: ingest only wakes it.
// Each batch keeps its idempotency id upstream, so a retry after a lost answer is deduplicated.
import { BATCH_ID_HEADER } from '../../runtime/telemetry/otlp-schema.ts';
import type { Db } from '../store/database.ts';
import type { CollectorStats } from '../stats.ts';

export interface ForwarderConfig {
  readonly url: URL;
  readonly key: string | undefined;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** parallel requests upstream */
  readonly concurrency?: number;
  /** per-request timeout */
  readonly timeoutMs?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;
/** Statuses the upstream will answer the same way forever: drop the batch (and count it). */
const PERMANENT = new Set([400, 404, 405, 413, 415]);

interface OutboxRow {
  id: number;
  batch_id: string;
  body: Buffer;
  attempts: number;
}

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 20));
  return Math.round(ceiling * (0.5 + random() * 0.5)); // jitter: clients that failed together retry apart
}

function retryAfterMs(h: string | null, nowMs: number): number | undefined {
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export class Forwarder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly due;
  private readonly remove;
  private readonly reschedule;
  private readonly nextDue;

  constructor(
    db: Db,
    private readonly config: ForwarderConfig,
    private readonly stats: CollectorStats,
  ) {
    this.due = db.prepare('SELECT id, batch_id, body, attempts FROM outbox WHERE next_ms <= ? ORDER BY id LIMIT ?');
    this.remove = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.reschedule = db.prepare('UPDATE outbox SET attempts = attempts + 1, next_ms = ?, last_error = ? WHERE id = ?');
    this.nextDue = db.prepare('SELECT MIN(next_ms) AS t FROM outbox');
  }

  /** Called after a batch is stored (and at start, for what a previous run left). */
  wake(): void {
    if (this.closed || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.pump().finally(() => {
      this.running = undefined;
      this.scheduleNext();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(); // in-flight posts stay in the outbox and go out after the next start
    await this.running;
  }

  private scheduleNext(): void {
    if (this.closed) return;
    const t = (this.nextDue.get() as { t: number | null }).t;
    if (t === null) return;
    const delay = Math.max(0, t - this.config.now());
    this.timer = setTimeout(() => this.wake(), Math.min(delay, MAX_BACKOFF_MS));
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    const limit = this.config.concurrency ?? 4;
    while (!this.closed) {
      const rows = this.due.all(this.config.now(), limit) as OutboxRow[];
      if (rows.length === 0) return;
      await Promise.all(rows.map((r) => this.send(r)));
    }
  }

  private async send(row: OutboxRow): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', [BATCH_ID_HEADER]: row.batch_id };
    if (this.config.key) headers.Authorization = `Bearer ${this.config.key}`;
    let status = 0;
    let retryAfter: string | null = null;
    let error: string;
    try {
      const res = await fetch(this.config.url, { method: 'POST', headers, body: new Uint8Array(row.body), signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.config.timeoutMs ?? 10_000)]) });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      error = res.ok ? '' : `HTTP ${status}: ${(await res.text()).slice(0, 200)}`;
    } catch (e) {
      if (this.closed) return;
      error = e instanceof Error ? e.message : String(e);
    }
    if (status >= 200 && status < 300) {
      this.remove.run(row.id);
      this.stats.forwarded++;
    } else if (PERMANENT.has(status)) {
      this.remove.run(row.id);
      this.stats.forwardDropped++;
      this.config.log(`forwarding batch ${row.batch_id} refused for good by ${this.config.url.href} (${error}); dropped from the outbox`);
    } else {
      this.stats.forwardFailures++;
      const wait = retryAfterMs(retryAfter, this.config.now()) ?? backoffMs(row.attempts);
      this.reschedule.run(this.config.now() + wait, error, row.id);
      if (row.attempts === 0 || row.attempts % 10 === 9) this.config.log(`forwarding to ${this.config.url.href} failed (${error}); retrying in ${Math.round(wait / 1000)} s`);
    }
  }
}
