// GET /metrics: Prometheus text exposition (format 0.0.4) of what the collector stores, per model,
// version, backend and device class, plus the collector's own health. Latencies are summaries:
// quantiles over the last `windowMs` (merged exponential histograms), _count and _sum over all
// retained data.
import { METRIC } from '../runtime/telemetry/otlp-schema.ts';
import { ExpHistogramMerger } from './sketch/exp-histogram.ts';
import type { CollectorStats } from './stats.ts';
import { INGEST_BUCKETS } from './stats.ts';
import type { Db } from './store/database.ts';
import { latencyDeltas } from './store/latency-query.ts';
import { sumTotals, type GroupColumn } from './store/totals-query.ts';

const DIMS: readonly GroupColumn[] = ['model', 'version', 'backend', 'device_class'];
/** Rows one scrape reads per query at most; the series caps keep real data well below. */
const MAX_ROWS = 100_000;

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Readonly<Record<string, string>>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const num = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

class Exposition {
  private readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'summary' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, l: Readonly<Record<string, string>>, v: number): void {
    this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }
  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

interface CountRow {
  model: string;
  version: string;
  backend: string;
  device_class: string;
  phase: string;
  n: number;
  s: number;
}

/** _count and _sum over all retained data, from the stored columns (no bucket decoding per scrape). */
function latencyTotals(db: Db, metric: string): CountRow[] {
  const dims = "COALESCE(model,'') AS model, COALESCE(version,'') AS version, COALESCE(backend,'') AS backend, COALESCE(device_class,'') AS device_class, COALESCE(phase,'') AS phase";
  const group = 'GROUP BY model, version, backend, device_class, phase';
  return db.prepare(`
    SELECT ${dims}, TOTAL(count) AS n, TOTAL(sum) AS s FROM points WHERE metric = ? AND kind = 'exponentialHistogram' AND temporality != 2 ${group}
    UNION ALL
    SELECT model, version, backend, device_class, phase, TOTAL(count) AS n, TOTAL(sum) AS s FROM (
      SELECT ${dims}, count, sum, ROW_NUMBER() OVER (PARTITION BY series, start_ms ORDER BY time_ms DESC) AS rn
      FROM points WHERE metric = ? AND kind = 'exponentialHistogram' AND temporality = 2
    ) WHERE rn = 1 ${group} LIMIT ${MAX_ROWS}`).all(metric, metric) as CountRow[];
}

function latencySummary(out: Exposition, db: Db, metric: string, promName: string, help: string, nowMs: number, windowMs: number): void {
  const series = new Map<string, { labels: Record<string, string>; window: ExpHistogramMerger; count: number; sum: number }>();
  const entry = (l: Record<string, string>): { labels: Record<string, string>; window: ExpHistogramMerger; count: number; sum: number } => {
    const key = JSON.stringify(l);
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels: l, window: new ExpHistogramMerger(), count: 0, sum: 0 }));
    return s;
  };
  for (const r of latencyTotals(db, metric)) {
    const s = entry({ model: r.model, version: r.version, backend: r.backend, device_class: r.device_class, phase: r.phase });
    s.count += r.n;
    s.sum += r.s;
  }
  if (series.size === 0) return;
  for (const pt of latencyDeltas(db, metric, undefined, { from: nowMs - windowMs })) entry({ ...pt.dims }).window.add(pt.h);
  out.family(promName, 'summary', help);
  for (const s of series.values()) {
    for (const q of [0.5, 0.9, 0.99]) {
      const v = s.window.quantile(q);
      if (v !== undefined) out.sample(promName, { ...s.labels, quantile: String(q) }, v);
    }
    out.sample(`${promName}_count`, s.labels, s.count);
    out.sample(`${promName}_sum`, s.labels, s.sum);
  }
}

function counter(out: Exposition, db: Db, metric: string, promName: string, help: string, extra: readonly GroupColumn[]): void {
  const totals = sumTotals(db, metric, [...DIMS, ...extra]);
  out.family(promName, 'counter', help);
  for (const t of totals) out.sample(promName, t.labels, t.value);
}

export function renderPrometheus(db: Db, stats: CollectorStats, nowMs: number, windowMs = 5 * 60_000): string {
  const out = new Exposition();
  latencySummary(out, db, METRIC.runLatency, 'kiln_run_duration_milliseconds', `run latency by phase (quantiles over the last ${windowMs / 1000} s)`, nowMs, windowMs);
  latencySummary(out, db, METRIC.coldStart, 'kiln_session_create_duration_milliseconds', `cold start by phase (quantiles over the last ${windowMs / 1000} s)`, nowMs, windowMs);
  counter(out, db, METRIC.runs, 'kiln_runs_total', 'runs completed', []);
  counter(out, db, METRIC.runErrors, 'kiln_run_errors_total', 'runs that failed, by error code', ['error_code']);
  counter(out, db, METRIC.driftAlerts, 'kiln_drift_alerts_total', 'drift windows that raised an alert, by feature', ['feature']);
  counter(out, db, METRIC.droppedBatches, 'kiln_telemetry_dropped_total', 'telemetry batches clients dropped (offline queue full)', []);

  const drift = db.prepare(`SELECT COALESCE(model,'') model, COALESCE(version,'') version, COALESCE(backend,'') backend, COALESCE(device_class,'') device_class,
      feature, COALESCE(drift_test,'') test, value, COALESCE(alert, 0) alert
    FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY model, version, backend, device_class, feature, drift_test ORDER BY time_ms DESC) rn FROM points WHERE metric = ? AND feature IS NOT NULL)
    WHERE rn = 1 LIMIT ${MAX_ROWS}`).all(METRIC.driftScore) as { model: string; version: string; backend: string; device_class: string; feature: string; test: string; value: number; alert: number }[];
  out.family('kiln_drift_score', 'gauge', 'latest drift score per feature');
  for (const d of drift) out.sample('kiln_drift_score', { model: d.model, version: d.version, backend: d.backend, device_class: d.device_class, feature: d.feature, test: d.test }, d.value);
  out.family('kiln_drift_alert', 'gauge', '1 when the latest window of a feature alerted');
  for (const d of drift) out.sample('kiln_drift_alert', { model: d.model, version: d.version, backend: d.backend, device_class: d.device_class, feature: d.feature, test: d.test }, d.alert);

  out.family('kiln_collector_requests_total', 'counter', 'OTLP export requests by HTTP status');
  for (const [status, n] of [...stats.ingestByStatus.entries()].sort((a, b) => a[0] - b[0])) out.sample('kiln_collector_requests_total', { status: String(status) }, n);
  out.family('kiln_collector_batches_total', 'counter', 'accepted batches: stored, or duplicates of a stored batch');
  out.sample('kiln_collector_batches_total', { outcome: 'stored' }, stats.batchesStored);
  out.sample('kiln_collector_batches_total', { outcome: 'duplicate' }, stats.batchesDuplicate);
  out.family('kiln_collector_points_total', 'counter', 'data points stored');
  out.sample('kiln_collector_points_total', {}, stats.pointsStored);
  out.family('kiln_collector_points_refused_total', 'counter', 'valid data points not stored, by reason (time: outside [now - retention, now + 10 min]; series_limit: a new series beyond the caps)');
  out.sample('kiln_collector_points_refused_total', { reason: 'time' }, stats.pointsRefusedTime);
  out.sample('kiln_collector_points_refused_total', { reason: 'series_limit' }, stats.pointsRefusedSeries);
  out.family('kiln_collector_ingest_duration_seconds', 'histogram', 'time from request to answer on /v1/metrics');
  INGEST_BUCKETS.forEach((b, i) => out.sample('kiln_collector_ingest_duration_seconds_bucket', { le: String(b) }, stats.ingestBucketCounts[i]!));
  out.sample('kiln_collector_ingest_duration_seconds_bucket', { le: '+Inf' }, stats.ingestCount);
  out.sample('kiln_collector_ingest_duration_seconds_sum', {}, stats.ingestSumSeconds);
  out.sample('kiln_collector_ingest_duration_seconds_count', {}, stats.ingestCount);
  const pending = Number((db.prepare('SELECT COUNT(*) n FROM outbox').get() as { n: number }).n);
  out.family('kiln_collector_outbox_pending', 'gauge', 'batches waiting to be forwarded upstream');
  out.sample('kiln_collector_outbox_pending', {}, pending);
  out.family('kiln_collector_forwarded_total', 'counter', 'batches forwarded upstream, by result');
  out.sample('kiln_collector_forwarded_total', { result: 'ok' }, stats.forwarded);
  out.sample('kiln_collector_forwarded_total', { result: 'retry' }, stats.forwardFailures);
  out.sample('kiln_collector_forwarded_total', { result: 'dropped' }, stats.forwardDropped);
  out.family('kiln_collector_outbox_dropped_total', 'counter', 'batches dropped from the forwarding outbox unsent, by reason (full: over the byte cap; expired: over the age cap)');
  out.sample('kiln_collector_outbox_dropped_total', { reason: 'full' }, stats.outboxDroppedFull);
  out.sample('kiln_collector_outbox_dropped_total', { reason: 'expired' }, stats.outboxDroppedExpired);
  return out.text();
}
