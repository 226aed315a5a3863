// Deletes what is older than the retention period: data points by their own time, dedup records
// by arrival (so a batch retried after the retention period would be stored again; documented).
// Deletes go in chunks so a large sweep never holds the event loop (and ingest) for long.
import type { Db } from './database.ts';

export interface RetentionResult {
  readonly points: number;
  readonly batches: number;
  /** series whose newest point is past the period (freed for the series caps) */
  readonly series: number;
}

const CHUNK = 5000;

export interface Retention {
  /** one chunk of at most `CHUNK` rows per table; a result below CHUNK in both means done */
  chunk(nowMs: number): RetentionResult;
  /** everything, synchronously */
  all(nowMs: number): RetentionResult;
  /** everything, a chunk per event-loop turn */
  sweep(nowMs: number): Promise<RetentionResult>;
}

export function createRetention(db: Db, retentionDays: number): Retention {
  const delPoints = db.prepare(`DELETE FROM points WHERE id IN (SELECT id FROM points WHERE time_ms < ? LIMIT ${CHUNK})`);
  const delBatches = db.prepare(`DELETE FROM batches WHERE id IN (SELECT id FROM batches WHERE received_ms < ? LIMIT ${CHUNK})`);
  const delSeries = db.prepare(`DELETE FROM series WHERE series IN (SELECT series FROM series WHERE last_ms < ? LIMIT ${CHUNK})`);
  const chunk = db.transaction((nowMs: number): RetentionResult => {
    const cutoff = Math.floor(nowMs - retentionDays * 86_400_000);
    return { points: delPoints.run(cutoff).changes, batches: delBatches.run(cutoff).changes, series: delSeries.run(cutoff).changes };
  });
  const add = (a: RetentionResult, b: RetentionResult): RetentionResult => ({ points: a.points + b.points, batches: a.batches + b.batches, series: a.series + b.series });
  const done = (r: RetentionResult): boolean => r.points < CHUNK && r.batches < CHUNK && r.series < CHUNK;
  const sweep = async (nowMs: number): Promise<RetentionResult> => {
    let total: RetentionResult = { points: 0, batches: 0, series: 0 };
    for (;;) {
      const r = chunk(nowMs);
      total = add(total, r);
      if (done(r)) return total;
      await new Promise((res) => setImmediate(res));
    }
  };
  return {
    chunk,
    all(nowMs) {
      let total: RetentionResult = { points: 0, batches: 0, series: 0 };
      for (;;) {
        const r = chunk(nowMs);
        total = add(total, r);
        if (done(r)) return total;
      }
    },
    sweep,
  };
}
