// Drift scores per feature over time (the highest score per time bucket, and whether any window
// in it alerted), plus the latest alerts for the dashboard's alert list.
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Db } from './database.ts';
import { niceBucketMs, whereClause, type Filters } from './filters.ts';

export interface DriftFeatureSeries {
  readonly feature: string;
  readonly test: string;
  readonly points: { t: number; score: number; alert: boolean }[];
  readonly alerts: number;
  readonly last: { t: number; score: number; alert: boolean };
}

export interface DriftAlert {
  readonly t: number;
  readonly feature: string;
  readonly test: string;
  readonly score: number;
  readonly model: string | null;
  readonly version: string | null;
  readonly backend: string | null;
  readonly deviceClass: string | null;
}

export interface DriftReport {
  readonly bucketMs: number;
  readonly features: DriftFeatureSeries[];
  readonly alerts: DriftAlert[];
}

interface Row {
  time_ms: number;
  feature: string;
  drift_test: string | null;
  value: number;
  alert: number | null;
  model: string | null;
  version: string | null;
  backend: string | null;
  device_class: string | null;
}

export function driftReport(db: Db, f: Filters, targetBuckets = 60, maxAlerts = 50): DriftReport {
  const w = whereClause(f, [['metric = ?', METRIC.driftScore], ['feature IS NOT NULL']]);
  const rows = db.prepare(`SELECT time_ms, feature, drift_test, value, alert, model, version, backend, device_class FROM points ${w.sql} ORDER BY time_ms`).all(...w.params) as Row[];
  const from = rows[0]?.time_ms ?? f.from ?? 0; // buckets follow the data in the range
  const to = rows.length ? rows[rows.length - 1]!.time_ms + 1 : (f.to ?? from + 1);
  const bucketMs = niceBucketMs(to - from, targetBuckets);
  const series = new Map<string, { feature: string; test: string; buckets: Map<number, { score: number; alert: boolean }>; alerts: number; last: { t: number; score: number; alert: boolean } }>();
  const alerts: DriftAlert[] = [];
  for (const r of rows) {
    const test = r.drift_test ?? '';
    const key = `${r.feature}\u0000${test}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = { feature: r.feature, test, buckets: new Map(), alerts: 0, last: { t: r.time_ms, score: r.value, alert: r.alert === 1 } }));
    const t = Math.floor(r.time_ms / bucketMs) * bucketMs;
    const b = s.buckets.get(t);
    const alert = r.alert === 1;
    s.buckets.set(t, { score: Math.max(b?.score ?? -Infinity, r.value), alert: (b?.alert ?? false) || alert });
    s.last = { t: r.time_ms, score: r.value, alert };
    if (alert) {
      s.alerts++;
      alerts.push({ t: r.time_ms, feature: r.feature, test, score: r.value, model: r.model, version: r.version, backend: r.backend, deviceClass: r.device_class });
    }
  }
  const features = [...series.values()]
    .map((s) => ({ feature: s.feature, test: s.test, alerts: s.alerts, last: s.last, points: [...s.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, ...v })) }))
    .sort((a, b) => b.alerts - a.alerts || a.feature.localeCompare(b.feature));
  return { bucketMs, features, alerts: alerts.slice(-maxAlerts).reverse() };
}
