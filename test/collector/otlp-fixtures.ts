// OTLP/HTTP JSON requests built by hand from the OTLP spec (ExportMetricsServiceRequest JSON
// mapping) with Kiln's wire names, independent of the collector's own parsing and sketch code:
// bucket indices come from logarithms here, the collector merges them by bit shifts.
import { gzipSync } from 'node:zlib';
import { ATTR, BATCH_ID_HEADER, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

export interface Who {
  readonly model: string;
  readonly version: string;
  readonly backend: string;
  readonly deviceClass: string;
}

type Kv = { key: string; value: Record<string, unknown> };

export const kv = (key: string, v: string | number | boolean): Kv => ({
  key,
  value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
});

export const nanos = (ms: number): string => `${BigInt(Math.round(ms)) * 1_000_000n}`;

/** An exponential-histogram data point (delta) of positive samples at `scale`, by logarithms. */
export function expPoint(samples: readonly number[], scale: number, timeMs: number, attrs: Kv[]): Record<string, unknown> {
  const idx = samples.map((v) => Math.ceil(Math.log(v) / Math.log(2) * 2 ** scale) - 1);
  const lo = Math.min(...idx);
  const counts = new Array<number>(Math.max(...idx) - lo + 1).fill(0);
  for (const i of idx) counts[i - lo]!++;
  return {
    attributes: attrs,
    startTimeUnixNano: nanos(timeMs - 10_000),
    timeUnixNano: nanos(timeMs),
    count: String(samples.length),
    sum: samples.reduce((a, b) => a + b, 0),
    min: Math.min(...samples),
    max: Math.max(...samples),
    scale,
    zeroCount: '0',
    positive: { offset: lo, bucketCounts: counts.map(String) },
  };
}

export function latencyMetric(points: Record<string, unknown>[], metric: string = METRIC.runLatency): Record<string, unknown> {
  return { name: metric, unit: 'ms', exponentialHistogram: { aggregationTemporality: 1, dataPoints: points } };
}

export function sumMetric(name: string, value: number, timeMs: number, attrs: Kv[] = []): Record<string, unknown> {
  return { name, unit: '1', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ attributes: attrs, startTimeUnixNano: nanos(timeMs - 10_000), timeUnixNano: nanos(timeMs), asInt: String(value) }] } };
}

export function driftMetric(scores: { feature: string; score: number; alert: boolean; test?: string }[], timeMs: number): Record<string, unknown> {
  return {
    name: METRIC.driftScore,
    unit: '1',
    gauge: {
      dataPoints: scores.map((s) => ({
        attributes: [kv(ATTR.feature, s.feature), kv(ATTR.driftTest, s.test ?? 'psi'), kv(ATTR.driftAlert, s.alert)],
        timeUnixNano: nanos(timeMs),
        asDouble: s.score,
      })),
    },
  };
}

export function request(who: Who, metrics: Record<string, unknown>[]): Record<string, unknown> {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [kv(ATTR.serviceName, 'test-app'), kv(ATTR.modelName, who.model), kv(ATTR.modelVersion, who.version), kv(ATTR.backend, who.backend), kv(ATTR.deviceClass, who.deviceClass)] },
        scopeMetrics: [{ scope: { name: 'kiln', version: '0.1.0' }, metrics }],
      },
    ],
  };
}

export interface PostOptions {
  readonly key?: string;
  readonly batchId?: string;
  readonly gzip?: boolean;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

export interface PostResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { code?: number; message?: string } & Record<string, unknown>;
}

export async function post(baseUrl: string, body: unknown, o: PostOptions = {}): Promise<PostResult> {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = { 'Content-Type': o.contentType ?? 'application/json', ...(o.headers ?? {}) };
  if (o.key) headers.Authorization = `Bearer ${o.key}`;
  if (o.batchId) headers[BATCH_ID_HEADER] = o.batchId;
  if (o.gzip) headers['Content-Encoding'] = 'gzip';
  const res = await fetch(`${baseUrl}/v1/metrics`, { method: 'POST', headers, body: new Uint8Array(o.gzip ? gzipSync(json) : json) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as PostResult['body']) : {} };
}

/** Random positive latencies (log-normal), fresh each run. */
export function randomLatencies(n: number, medianMs: number, spread = 0.6): number[] {
  return Array.from({ length: n }, () => {
    const u = Math.max(1e-12, rng.uniform());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.uniform());
    return medianMs * Math.exp(spread * z);
  });
}
