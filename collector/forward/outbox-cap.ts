// The forwarding outbox's caps: by bytes of stored (gzip) bodies and by age. The oldest batches go
// first, unsent, each counted. A byte count is kept beside the table (measured at start and after
// each trim) so the common case, an outbox under its cap, costs one row read per check.
import type { CollectorStats } from '../stats.ts';
import type { Db } from '../store/database.ts';

export interface OutboxCapConfig {
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
}

export class OutboxCap {
  private readonly oldest;
  private readonly totalBytes;
  private readonly dropThrough;
  private bytes: number;

  constructor(
    db: Db,
    private readonly config: OutboxCapConfig,
    private readonly stats: CollectorStats,
  ) {
    this.oldest = db.prepare('SELECT id, created_ms, length(body) AS n FROM outbox ORDER BY id');
    this.totalBytes = db.prepare('SELECT TOTAL(length(body)) AS n FROM outbox');
    this.dropThrough = db.prepare('DELETE FROM outbox WHERE id <= ?');
    this.bytes = this.measure();
  }

  /** A body of `bytes` was queued. */
  added(bytes: number): void {
    this.bytes += bytes;
  }

  /** A body of `bytes` left the outbox (forwarded or refused). */
  removed(bytes: number): void {
    this.bytes -= bytes;
  }

  /** Drops what is too old, then the oldest until the outbox fits its byte cap. Throws database errors. */
  trim(): void {
    const cutoff = this.config.now() - this.config.maxAgeMs;
    let expired = 0;
    let full = 0;
    let freed = 0;
    let through = 0;
    let over = this.bytes > this.config.maxBytes;
    // Rows come oldest first (ids grow with arrival): stop at the first one we may keep.
    for (const r of this.oldest.iterate() as IterableIterator<{ id: number; created_ms: number; n: number }>) {
      const old = r.created_ms < cutoff;
      if (!old && !over) break;
      through = r.id;
      freed += r.n;
      if (old) expired++;
      else full++;
      over = this.bytes - freed > this.config.maxBytes;
    }
    if (through === 0) return;
    this.dropThrough.run(through);
    this.bytes = this.measure();
    this.stats.outboxDroppedExpired += expired;
    this.stats.outboxDroppedFull += full;
    if (full) this.config.log(`forwarding outbox over its ${this.config.maxBytes}-byte cap: dropped the ${full} oldest batch(es) unsent`);
    if (expired) this.config.log(`forwarding outbox: dropped ${expired} batch(es) older than ${Math.round(this.config.maxAgeMs / 3_600_000)} h unsent`);
  }

  private measure(): number {
    return (this.totalBytes.get() as { n: number }).n;
  }
}
