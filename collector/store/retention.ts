// Deletes what is older than the retention period: data points by their own time, dedup records
// by arrival (so a batch retried after the retention period would be stored again; documented).
import type { Db } from './database.ts';

export interface RetentionResult {
  readonly points: number;
  readonly batches: number;
}

export function createRetention(db: Db, retentionDays: number): (nowMs: number) => RetentionResult {
  const delPoints = db.prepare('DELETE FROM points WHERE time_ms < ?');
  const delBatches = db.prepare('DELETE FROM batches WHERE received_ms < ?');
  return db.transaction((nowMs: number): RetentionResult => {
    const cutoff = Math.floor(nowMs - retentionDays * 86_400_000);
    return { points: delPoints.run(cutoff).changes, batches: delBatches.run(cutoff).changes };
  });
}
