// Kiln's measurements as OTLP/HTTP JSON (ExportMetricsServiceRequest), with exactly the names in
// otlp-schema.ts. Histograms and sums are DELTA (aggregationTemporality 1): every batch holds what
// happened since the previous one, so batches are independent and a retried one adds nothing twice
// at a collector that deduplicates by batch id. 64-bit integers are decimal strings (proto3 JSON).
import type { ExpHistogramData } from '../latency/exp-histogram.ts';
import type { PendingLatency } from '../latency/latency-recorder.ts';
import { ATTR, METRIC } from '../otlp-schema.ts';
import type { DriftWindowResult } from '../telemetry-api.ts';

export type AnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };
export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

export interface OtlpMetric {
  readonly name: string;
  readonly unit?: string;
  readonly description?: string;
  readonly exponentialHistogram?: { aggregationTemporality: 1; dataPoints: object[] };
  readonly sum?: { aggregationTemporality: 1; isMonotonic: true; dataPoints: object[] };
  readonly gauge?: { dataPoints: object[] };
}

export const AGGREGATION_DELTA = 1;
export const SCOPE = { name: 'kiln', version: '0.1.0' } as const;

export function attributes(rec: Readonly<Record<string, string | number | boolean | undefined>>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, v] of Object.entries(rec)) {
    if (v === undefined) continue;
    const value: AnyValue = typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    out.push({ key, value });
  }
  return out;
}

const nanos = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();

function expPoint(h: ExpHistogramData, attrs: KeyValue[], startMs: number, endMs: number): object {
  return {
    attributes: attrs,
    startTimeUnixNano: nanos(startMs),
    timeUnixNano: nanos(endMs),
    count: String(h.count),
    sum: h.sum,
    scale: h.scale,
    zeroCount: String(h.zeroCount),
    positive: { offset: h.offset, bucketCounts: h.counts.map(String) },
    min: h.min,
    max: h.max,
  };
}

/** A one-value histogram point (cold start phases: one sample per session). */
function singleValue(ms: number): ExpHistogramData {
  if (ms <= 0) return { scale: 5, count: 1, sum: 0, min: 0, max: 0, zeroCount: 1, offset: 0, counts: [] };
  const index = Math.ceil(Math.log2(ms) * 32) - 1;
  return { scale: 5, count: 1, sum: ms, min: ms, max: ms, zeroCount: 0, offset: index, counts: [1] };
}

export interface MetricsSince {
  readonly latency: PendingLatency;
  readonly windows: readonly DriftWindowResult[];
  /** batches dropped from the full offline queue since the last report */
  readonly dropped: number;
  readonly endMs: number;
}

/** The metrics of one export, each a separate fragment so a large export can be split. */
export function encodeMetrics(m: MetricsSince): OtlpMetric[] {
  const { latency: l, endMs } = m;
  const out: OtlpMetric[] = [];
  const sumPoint = (value: number, attrs: KeyValue[]): object => ({ attributes: attrs, startTimeUnixNano: nanos(l.startMs), timeUnixNano: nanos(endMs), asInt: String(value) });
  for (const [phase, h] of l.runs) {
    if (h.count > 0) out.push({ name: METRIC.runLatency, unit: 'ms', exponentialHistogram: { aggregationTemporality: AGGREGATION_DELTA, dataPoints: [expPoint(h, attributes({ [ATTR.phase]: phase }), l.startMs, endMs)] } });
  }
  const cold = Object.entries(l.coldStart).filter(([, v]) => v !== undefined && v >= 0);
  if (cold.length > 0) {
    out.push({ name: METRIC.coldStart, unit: 'ms', exponentialHistogram: { aggregationTemporality: AGGREGATION_DELTA, dataPoints: cold.map(([phase, ms]) => expPoint(singleValue(ms!), attributes({ [ATTR.phase]: phase }), l.startMs, endMs)) } });
  }
  if (l.runCount > 0) out.push({ name: METRIC.runs, unit: '1', sum: { aggregationTemporality: AGGREGATION_DELTA, isMonotonic: true, dataPoints: [sumPoint(l.runCount, [])] } });
  if (l.errors.size > 0) out.push({ name: METRIC.runErrors, unit: '1', sum: { aggregationTemporality: AGGREGATION_DELTA, isMonotonic: true, dataPoints: [...l.errors].map(([code, n]) => sumPoint(n, attributes({ [ATTR.errorCode]: code }))) } });
  if (m.dropped > 0) out.push({ name: METRIC.droppedBatches, unit: '1', sum: { aggregationTemporality: AGGREGATION_DELTA, isMonotonic: true, dataPoints: [sumPoint(m.dropped, [])] } });
  for (const w of m.windows) {
    const at = nanos(Date.parse(w.at));
    const points: object[] = [];
    for (const f of w.features) {
      const tests: [string, number | undefined][] = [['psi', f.psi], ['js', f.js], ['wasserstein', f.wasserstein]];
      for (const [test, score] of tests) {
        if (score === undefined || !Number.isFinite(score)) continue;
        points.push({ attributes: attributes({ [ATTR.feature]: f.name, [ATTR.driftTest]: test, [ATTR.driftAlert]: f.drifted }), timeUnixNano: at, asDouble: score });
      }
    }
    if (points.length > 0) out.push({ name: METRIC.driftScore, unit: '1', gauge: { dataPoints: points } });
    const drifted = w.features.filter((f) => f.drifted);
    if (drifted.length > 0) {
      out.push({ name: METRIC.driftAlerts, unit: '1', sum: { aggregationTemporality: AGGREGATION_DELTA, isMonotonic: true, dataPoints: drifted.map((f) => ({ attributes: attributes({ [ATTR.feature]: f.name }), startTimeUnixNano: nanos(l.startMs), timeUnixNano: at, asInt: '1' })) } });
    }
  }
  return out;
}

/** Splits a metric with many points into metrics of at most `maxBytes` JSON each (as far as one point allows). */
function splitMetric(metric: OtlpMetric, maxBytes: number): OtlpMetric[] {
  const key = metric.exponentialHistogram ? 'exponentialHistogram' : metric.sum ? 'sum' : 'gauge';
  const data = metric[key]!;
  if (JSON.stringify(metric).length <= maxBytes || data.dataPoints.length <= 1) return [metric];
  const half = Math.ceil(data.dataPoints.length / 2);
  const part = (points: object[]): OtlpMetric => ({ ...metric, [key]: { ...data, dataPoints: points } });
  return [...splitMetric(part(data.dataPoints.slice(0, half)), maxBytes), ...splitMetric(part(data.dataPoints.slice(half)), maxBytes)];
}

/**
 * Request bodies (JSON text) holding `metrics`, each at most about `maxBytes` before gzip: metrics
 * are packed greedily and split by data point when one alone is too large.
 */
export function packRequests(resource: readonly KeyValue[], metrics: readonly OtlpMetric[], maxBytes: number): string[] {
  const envelope = (ms: readonly OtlpMetric[]): string => JSON.stringify({ resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: SCOPE, metrics: ms }] }] });
  const overhead = envelope([]).length;
  const bodies: string[] = [];
  let current: OtlpMetric[] = [];
  let size = overhead;
  for (const metric of metrics.flatMap((m) => splitMetric(m, maxBytes - overhead))) {
    const len = JSON.stringify(metric).length + 1;
    if (current.length > 0 && size + len > maxBytes) {
      bodies.push(envelope(current));
      current = [];
      size = overhead;
    }
    current.push(metric);
    size += len;
  }
  if (current.length > 0) bodies.push(envelope(current));
  return bodies;
}
