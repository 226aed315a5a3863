// Re-posts accepted batches to an upstream OTLP/HTTP endpoint from the durable outbox (written in
// the same transaction as the batch), so a batch accepted here reaches the upstream even across
// restarts and upstream outages. Runs beside ingest, never in its path: ingest only wakes it.
// Each batch keeps its idempotency id upstream, so a retry after a lost answer is deduplicated.
// Bounded: the outbox is capped by bytes and by age (oldest dropped first, counted), refusals
// that cannot change (401/403 included) drop the batch, and no error of its own (a locked or
// full database included) escapes: it logs and tries again later.
import { BATCH_ID_HEADER } from '../../runtime/telemetry/otlp-schema.ts';
import type { Db } from '../store/database.ts';
import type { CollectorStats } from '../stats.ts';
import { OutboxCap } from './outbox-cap.ts';

export interface ForwarderConfig {
  readonly url: URL;
  readonly key: string | undefined;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** parallel requests upstream */
  readonly concurrency?: number;
  /** per-request timeout */
  readonly timeoutMs?: number;
  /** outbox cap in bytes of stored (gzip) bodies; beyond it the oldest batches are dropped */
  readonly maxBytes: number;
  /** batches older than this (by arrival) are dropped unsent */
  readonly maxAgeMs: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;
/** Statuses the upstream will answer the same way forever: drop the batch (and count it). A bad
 *  --forward-key (401/403) is an operator's error that retrying cannot fix: said once in the log. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 413, 415]);
/** After an error of our own database (locked, disk full), try again this much later. */
const DB_RETRY_MS = 5000;

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
  private cap: OutboxCap | undefined;
  private readonly loggedStatus = new Set<number>();
  private lastDbError = '';
  /** set by a database error: the pump stops and the next attempt is DB_RETRY_MS later */
  private retryAfterDbError = false;

  constructor(
    private readonly db: Db,
    private readonly config: ForwarderConfig,
    private readonly stats: CollectorStats,
  ) {
    this.due = db.prepare('SELECT id, batch_id, body, attempts FROM outbox WHERE next_ms <= ? ORDER BY id LIMIT ?');
    this.remove = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.reschedule = db.prepare('UPDATE outbox SET attempts = attempts + 1, next_ms = ?, last_error = ? WHERE id = ?');
    this.nextDue = db.prepare('SELECT MIN(next_ms) AS t FROM outbox');
    this.guard('measuring the outbox', () => this.trim());
  }

  /** A batch of `bytes` was queued (same transaction as its points): trim, then send. */
  queued(bytes: number): void {
    this.cap?.added(bytes);
    this.guard('trimming the outbox', () => this.trim());
    this.wake();
  }

  /** Measuring the outbox reads the database, so a failure there is retried on the next trim. */
  private trim(): void {
    (this.cap ??= new OutboxCap(this.db, this.config, this.stats)).trim();
  }

  /** Called after a batch is stored (and at start, for what a previous run left). */
  wake(): void {
    if (this.closed || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.pump()
      .catch((e: unknown) => this.dbError('forwarding', e))
      .finally(() => {
        this.running = undefined;
        this.scheduleNext();
      });
  }

  /** Runs a database step; an error is logged (once per distinct message) and retried later, never thrown. */
  private guard(what: string, step: () => void): boolean {
    try {
      step();
      return true;
    } catch (e) {
      this.dbError(what, e);
      return false;
    }
  }

  private dbError(what: string, e: unknown): void {
    this.stats.forwardDbErrors++;
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== this.lastDbError) this.config.log(`${what} failed on the database (${msg}); retrying in ${DB_RETRY_MS / 1000} s`);
    this.lastDbError = msg;
    this.retryAfterDbError = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(); // in-flight posts stay in the outbox and go out after the next start
    await this.running;
  }

  private scheduleNext(): void {
    if (this.closed) return;
    let delay: number | undefined;
    if (this.retryAfterDbError) delay = DB_RETRY_MS;
    else {
      let t: number | null = null;
      if (!this.guard('reading the outbox', () => (t = (this.nextDue.get() as { t: number | null }).t))) delay = DB_RETRY_MS;
      else if (t !== null) delay = Math.max(0, t - this.config.now());
    }
    this.retryAfterDbError = false;
    if (delay === undefined) return;
    this.timer = setTimeout(() => this.wake(), Math.min(delay, MAX_BACKOFF_MS));
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    const limit = this.config.concurrency ?? 4;
    while (!this.closed && !this.retryAfterDbError) {
      if (!this.guard('trimming the outbox', () => this.trim())) return;
      let rows: OutboxRow[] = [];
      if (!this.guard('reading the outbox', () => (rows = this.due.all(this.config.now(), limit) as OutboxRow[]))) return;
      if (rows.length === 0) return;
      await Promise.all(rows.map((r) => this.send(r)));
    }
  }

  private removeRow(row: OutboxRow): void {
    if (this.remove.run(row.id).changes > 0) this.cap?.removed(row.body.length);
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
    // The upstream answered; recording that is a write that can fail (a lock held elsewhere):
    // then the row stays and is sent again later, which the upstream deduplicates by batch id.
    if (status >= 200 && status < 300) {
      if (this.guard('removing a forwarded batch', () => this.removeRow(row))) this.stats.forwarded++;
    } else if (PERMANENT.has(status)) {
      if (!this.guard('dropping a refused batch', () => this.removeRow(row))) return;
      this.stats.forwardDropped++;
      if (!this.loggedStatus.has(status)) {
        this.loggedStatus.add(status);
        const why = status === 401 || status === 403 ? 'check --forward-key; ' : '';
        this.config.log(`forwarding to ${this.config.url.href} refused for good (${error}); ${why}such batches are dropped and counted in kiln_collector_forwarded_total{result="dropped"}, said once`);
      }
    } else {
      this.stats.forwardFailures++;
      const wait = retryAfterMs(retryAfter, this.config.now()) ?? backoffMs(row.attempts);
      if (!this.guard('rescheduling a batch', () => this.reschedule.run(this.config.now() + wait, error, row.id))) return;
      if (row.attempts === 0 || row.attempts % 10 === 9) this.config.log(`forwarding to ${this.config.url.href} failed (${error}); retrying in ${Math.round(wait / 1000)} s`);
    }
  }
}
