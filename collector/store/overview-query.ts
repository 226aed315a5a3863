// What the dashboard's header and filter menus need: the values present for each filter, the
// time range of the data, and headline counts.
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Db } from './database.ts';
import type { Filters } from './filters.ts';
import { grandTotal } from './totals-query.ts';

export interface FilterValues {
  readonly models: string[];
  readonly versions: string[];
  readonly backends: string[];
  readonly deviceClasses: string[];
  readonly phases: string[];
  readonly range: { from: number; to: number } | null;
}

// From the series table (one row per series, capped) rather than a scan of every point.
const distinct = (db: Db, col: string): string[] =>
  (db.prepare(`SELECT DISTINCT ${col} AS v FROM series WHERE ${col} IS NOT NULL ORDER BY ${col} LIMIT 500`).all() as { v: string }[]).map((r) => r.v);

export function filterValues(db: Db): FilterValues {
  const r = db.prepare('SELECT MIN(time_ms) AS lo, MAX(time_ms) AS hi FROM points').get() as { lo: number | null; hi: number | null };
  return {
    models: distinct(db, 'model'),
    versions: distinct(db, 'version'),
    backends: distinct(db, 'backend'),
    deviceClasses: distinct(db, 'device_class'),
    phases: distinct(db, 'phase'),
    range: r.lo === null || r.hi === null ? null : { from: r.lo, to: r.hi },
  };
}

export interface Overview {
  readonly batches: number;
  readonly points: number;
  readonly runs: number;
  readonly runErrors: number;
  readonly driftAlerts: number;
  readonly droppedBatches: number;
  readonly outboxPending: number;
}

export function overview(db: Db, f: Filters): Overview {
  const one = (sql: string): number => Number((db.prepare(sql).get() as { n: number | null }).n ?? 0);
  return {
    batches: one('SELECT COUNT(*) AS n FROM batches'),
    points: one('SELECT COUNT(*) AS n FROM points'),
    runs: grandTotal(db, METRIC.runs, f),
    runErrors: grandTotal(db, METRIC.runErrors, f),
    driftAlerts: grandTotal(db, METRIC.driftAlerts, f),
    droppedBatches: grandTotal(db, METRIC.droppedBatches, f),
    outboxPending: one('SELECT COUNT(*) AS n FROM outbox'),
  };
}
