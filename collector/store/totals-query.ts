// Totals of OTLP sums (runs, errors, drift alerts, dropped batches) grouped by chosen columns.
// Delta points add up; a cumulative stream contributes its latest value per start time, so a
// client re-sending its running total is never counted twice. TOTAL (a float) rather than SUM:
// SUM of integers throws "integer overflow" past 2^63, and one such row made every read answer 500.
import type { Db } from './database.ts';
import { whereClause, type Filters } from './filters.ts';

export type GroupColumn = 'model' | 'version' | 'backend' | 'device_class' | 'feature' | 'error_code' | 'service';

export interface Total {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Groups one query may return (the series caps keep real data far below). */
const MAX_TOTAL_GROUPS = 100_000;

export function sumTotals(db: Db, metric: string, groupBy: readonly GroupColumn[], f: Filters = {}): Total[] {
  const names = groupBy.map((_, i) => `g${i}`);
  const select = groupBy.length ? groupBy.map((c, i) => `COALESCE(${c}, '') AS g${i}`).join(', ') : "'' AS g";
  const groupSql = names.length ? `GROUP BY ${names.join(', ')}` : '';
  const wd = whereClause(f, [['metric = ?', metric], ["kind = 'sum'"], ['temporality = 1']]);
  const wc = whereClause(f, [['metric = ?', metric], ["kind = 'sum'"], ['temporality = 2']]);
  const sql = `
    SELECT ${names.length ? names.join(', ') + ',' : ''} TOTAL(value) AS v, COUNT(value) AS k FROM (SELECT ${select}, value FROM points ${wd.sql}) ${groupSql}
    UNION ALL
    SELECT ${names.length ? names.join(', ') + ',' : ''} TOTAL(value) AS v, COUNT(value) AS k FROM (
      SELECT ${select}, value, ROW_NUMBER() OVER (PARTITION BY series, start_ms ORDER BY time_ms DESC) AS rn FROM points ${wc.sql}
    ) WHERE rn = 1 ${groupSql} LIMIT ${MAX_TOTAL_GROUPS}`;
  const rows = db.prepare(sql).all(...wd.params, ...wc.params) as Record<string, string | number | null>[];
  const merged = new Map<string, Total>();
  for (const r of rows) {
    if (!r.k) continue; // an aggregate without GROUP BY answers one row even when nothing matched
    const labels: Record<string, string> = {};
    groupBy.forEach((c, i) => (labels[c] = String(r[`g${i}`] ?? '')));
    const key = JSON.stringify(labels);
    merged.set(key, { labels, value: (merged.get(key)?.value ?? 0) + Number(r.v) });
  }
  return [...merged.values()];
}

export function grandTotal(db: Db, metric: string, f: Filters = {}): number {
  return sumTotals(db, metric, [], f).reduce((a, t) => a + t.value, 0);
}
