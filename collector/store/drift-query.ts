// Drift per feature over time: for each test (psi, js, wasserstein) the highest score per time
// bucket and whether any window in it alerted, plus the latest alerting windows. A window is one
// (feature, time, reporter); the runtime sends one score per test for it, all with the same alert
// flag, so alerts are counted per window, not per test.
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Db } from './database.ts';
import { niceBucketMs, whereClause, type Filters } from './filters.ts';

export interface DriftPoint {
  readonly t: number;
  readonly score: number;
  readonly alert: boolean;
}

export interface DriftTestSeries {
  readonly test: string;
  readonly points: DriftPoint[];
  readonly last: DriftPoint;
}

export interface DriftFeatureSeries {
  readonly feature: string;
  readonly tests: DriftTestSeries[];
  /** alerting windows */
  readonly alerts: number;
  /** whether the feature's latest window alerted */
  readonly alerting: boolean;
}

export interface DriftAlert {
  readonly t: number;
  readonly feature: string;
  /** score per test in that window */
  readonly scores: Record<string, number>;
  readonly model: string | null;
  readonly version: string | null;
  readonly backend: string | null;
  readonly deviceClass: string | null;
}

export interface DriftReport {
  readonly bucketMs: number;
  readonly features: DriftFeatureSeries[];
  readonly alerts: DriftAlert[];
  /** alerting windows in the range (all features) */
  readonly alertCount: number;
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

interface FeatureAcc {
  tests: Map<string, { buckets: Map<number, { score: number; alert: boolean }>; last: DriftPoint }>;
  windows: Map<string, DriftAlert>;
  lastT: number;
  lastAlert: boolean;
}

/** Drift scores read per request at most (the newest): bounds one dashboard refresh. */
export const MAX_DRIFT_ROWS = 200_000;

export function driftReport(db: Db, f: Filters, targetBuckets = 60, maxAlerts = 50): DriftReport {
  const w = whereClause(f, [['metric = ?', METRIC.driftScore], ['feature IS NOT NULL']]);
  const rows = db.prepare(`SELECT time_ms, feature, drift_test, value, alert, model, version, backend, device_class FROM points ${w.sql} ORDER BY time_ms DESC LIMIT ${MAX_DRIFT_ROWS}`).all(...w.params).reverse() as Row[];
  const from = rows[0]?.time_ms ?? f.from ?? 0; // buckets follow the data in the range
  const to = rows.length ? rows[rows.length - 1]!.time_ms + 1 : (f.to ?? from + 1);
  const bucketMs = niceBucketMs(to - from, targetBuckets);
  const features = new Map<string, FeatureAcc>();
  for (const r of rows) {
    let acc = features.get(r.feature);
    if (!acc) features.set(r.feature, (acc = { tests: new Map(), windows: new Map(), lastT: r.time_ms, lastAlert: false }));
    const test = r.drift_test ?? 'score';
    const alert = r.alert === 1;
    const point = { t: r.time_ms, score: r.value, alert };
    let ts = acc.tests.get(test);
    if (!ts) acc.tests.set(test, (ts = { buckets: new Map(), last: point }));
    const t = Math.floor(r.time_ms / bucketMs) * bucketMs;
    const b = ts.buckets.get(t);
    ts.buckets.set(t, { score: Math.max(b?.score ?? -Infinity, r.value), alert: (b?.alert ?? false) || alert });
    ts.last = point;
    if (r.time_ms > acc.lastT) acc.lastAlert = false;
    acc.lastT = r.time_ms;
    acc.lastAlert ||= alert;
    if (alert) {
      const key = JSON.stringify([r.time_ms, r.model, r.version, r.backend, r.device_class]);
      let win = acc.windows.get(key);
      if (!win) acc.windows.set(key, (win = { t: r.time_ms, feature: r.feature, scores: {}, model: r.model, version: r.version, backend: r.backend, deviceClass: r.device_class }));
      win.scores[test] = r.value;
    }
  }
  const out: DriftFeatureSeries[] = [...features.entries()].map(([feature, acc]) => ({
    feature,
    alerts: acc.windows.size,
    alerting: acc.lastAlert,
    tests: [...acc.tests.entries()]
      .map(([test, s]) => ({ test, last: s.last, points: [...s.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, ...v })) }))
      .sort((a, b) => a.test.localeCompare(b.test)),
  }));
  out.sort((a, b) => Number(b.alerting) - Number(a.alerting) || b.alerts - a.alerts || a.feature.localeCompare(b.feature));
  const allAlerts = [...features.values()].flatMap((acc) => [...acc.windows.values()]).sort((a, b) => b.t - a.t);
  return { bucketMs, features: out, alerts: allAlerts.slice(0, maxAlerts), alertCount: allAlerts.length };
}
