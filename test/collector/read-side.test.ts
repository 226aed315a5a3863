// The read side: latency percentiles (merged exponential histograms) against exact quantiles of
// the raw samples, drift series and alerts, filters, the dashboard page, and /metrics parsed back.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Collector } from '../../collector/index.ts';
import { start, WRITE_KEY } from './collector-helpers.ts';
import { driftMetric, expPoint, kv, latencyMetric, nanos, post, randomLatencies, request, sumMetric, type Who } from './otlp-fixtures.ts';
import { parsePrometheus } from './prom-parse.ts';

const A: Who = { model: 'iris-mlp', version: '1', backend: 'webgpu', deviceClass: 'gpu-discrete' };
const B: Who = { model: 'iris-mlp', version: '2', backend: 'cpu', deviceClass: 'cpu' };
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
let now = T0 + 60_000;
let c: Collector;

/** Estimate must lie within the relative error of a bucket at `scale` around the exact rank's samples. */
function assertQuantile(estimate: number | undefined, samples: readonly number[], q: number, scale: number, what: string): void {
  assert.ok(estimate !== undefined, `${what}: no estimate`);
  const s = [...samples].sort((a, b) => a - b);
  const rank = q * (s.length - 1);
  const base = 2 ** (2 ** -scale);
  const err = (base - 1) / (base + 1) + 1e-9;
  const lo = s[Math.floor(rank)]! * (1 - err);
  const hi = s[Math.ceil(rank)]! * (1 + err);
  assert.ok(estimate >= lo && estimate <= hi, `${what}: p${q * 100} = ${estimate}, exact ${s[Math.round(rank)]} (allowed ${lo}..${hi})`);
}

interface LatencyJson {
  bucketMs: number;
  buckets: { t: number; count: number; p50: number; p90: number; p99: number }[];
  overall: { count: number; p50: number; p90: number; p99: number };
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${c.url}${path}`);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

// Samples kept by the test, the reference for every percentile the collector reports.
const samplesA: number[][] = [[], []]; // two minutes of version 1
const samplesB: number[] = [];
const cumulative = { first: [] as number[], second: [] as number[] };

before(async () => {
  c = await start({ apiKeys: [WRITE_KEY], now: () => now });
  // Version 1, minute 0: three batches at different scales (the merge must bring them to scale 3).
  const scales = [5, 3, 8];
  for (const [i, scale] of scales.entries()) {
    const xs = randomLatencies(300, 5 + i);
    samplesA[0]!.push(...xs);
    const r = await post(c.url, request(A, [latencyMetric([expPoint(xs, scale, T0 + 10_000 * i, [kv(ATTR.phase, 'total')])]), sumMetric(METRIC.runs, xs.length, T0 + 10_000 * i)]), { key: WRITE_KEY, batchId: randomUUID() });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // Minute 1: slower, plus a gpu phase that must not mix into 'total'.
  const xs = randomLatencies(500, 20);
  samplesA[1]!.push(...xs);
  await post(c.url, request(A, [latencyMetric([expPoint(xs, 5, T0 + 70_000, [kv(ATTR.phase, 'total')]), expPoint(randomLatencies(50, 1000), 5, T0 + 70_000, [kv(ATTR.phase, 'gpu')])]), sumMetric(METRIC.runs, xs.length, T0 + 70_000)]), { key: WRITE_KEY, batchId: randomUUID() });
  // Version 2 sends a cumulative stream: the second point holds both windows; the collector must
  // chart only the difference in the second minute.
  cumulative.first = randomLatencies(200, 50);
  cumulative.second = randomLatencies(200, 80);
  const start0 = T0 - 60_000;
  const cumPoint = (xs: number[], t: number): Record<string, unknown> => ({ ...expPoint(xs, 5, t, [kv(ATTR.phase, 'total')]), startTimeUnixNano: nanos(start0) });
  const cumMetric = (xs: number[], t: number): Record<string, unknown> => ({ name: METRIC.runLatency, unit: 'ms', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [cumPoint(xs, t)] } });
  const cumRuns = (n: number, t: number): Record<string, unknown> => ({ name: METRIC.runs, sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE', isMonotonic: true, dataPoints: [{ startTimeUnixNano: nanos(start0), timeUnixNano: nanos(t), asInt: n }] } });
  samplesB.push(...cumulative.first, ...cumulative.second);
  await post(c.url, request(B, [cumMetric(cumulative.first, T0 + 5_000), cumRuns(200, T0 + 5_000)]), { key: WRITE_KEY, batchId: randomUUID() });
  await post(c.url, request(B, [cumMetric(samplesB, T0 + 65_000), cumRuns(400, T0 + 65_000)]), { key: WRITE_KEY, batchId: randomUUID() });
  // Drift: feature f0 fine, f1 alerts in its second window.
  await post(c.url, request(A, [driftMetric([{ feature: 'f0', score: 0.02, alert: false }, { feature: 'f1', score: 0.05, alert: false }, { feature: 'f1', score: 0.01, alert: false, test: 'js' }], T0 + 30_000)]), { key: WRITE_KEY, batchId: randomUUID() });
  await post(c.url, request(A, [driftMetric([{ feature: 'f0', score: 0.03, alert: false }, { feature: 'f1', score: 0.41, alert: true }, { feature: 'f1', score: 0.22, alert: true, test: 'js' }], T0 + 90_000), sumMetric(METRIC.driftAlerts, 1, T0 + 90_000, [kv(ATTR.feature, 'f1')])]), { key: WRITE_KEY, batchId: randomUUID() });
});
after(() => c.close());

test('latency per minute: merged percentiles match exact quantiles of the samples', async () => {
  const lat = await getJson<LatencyJson>(`/api/latency?model=iris-mlp&version=1&phase=total&from=${T0}&to=${T0 + 120_000}&buckets=2`);
  assert.equal(lat.bucketMs, 60_000);
  assert.equal(lat.buckets.length, 2);
  for (const [i, b] of lat.buckets.entries()) {
    assert.equal(b.t, T0 + i * 60_000);
    assert.equal(b.count, samplesA[i]!.length);
    const scale = i === 0 ? 3 : 5;
    for (const q of [0.5, 0.9, 0.99] as const) assertQuantile(b[`p${q * 100}` as 'p50'], samplesA[i]!, q, scale, `minute ${i}`);
  }
  assertQuantile(lat.overall.p99, [...samplesA[0]!, ...samplesA[1]!], 0.99, 3, 'overall');
  const gpu = await getJson<LatencyJson>(`/api/latency?model=iris-mlp&version=1&phase=gpu`);
  assert.equal(gpu.overall.count, 50);
});

test('cumulative histograms are charted as differences', async () => {
  const lat = await getJson<LatencyJson>(`/api/latency?version=2&from=${T0}&to=${T0 + 120_000}&buckets=2`);
  assert.equal(lat.buckets.length, 2);
  assert.equal(lat.buckets[0]!.count, 200);
  assert.equal(lat.buckets[1]!.count, 200);
  for (const q of [0.5, 0.9] as const) assertQuantile(lat.buckets[1]![`p${q * 100}` as 'p50'], cumulative.second, q, 5, 'second window');
  // A range starting between the two points still measures the second against the first.
  const later = await getJson<LatencyJson>(`/api/latency?version=2&from=${T0 + 60_000}`);
  assert.equal(later.overall.count, 200);
  assertQuantile(later.overall.p50, cumulative.second, 0.5, 5, 'range after the first point');
  const o = await getJson<{ runs: number }>('/api/overview?version=2');
  assert.equal(o.runs, 400); // the latest cumulative value, not 200 + 400
});

test('filters list what was reported; overview totals follow the filters', async () => {
  const f = await getJson<{ models: string[]; versions: string[]; backends: string[]; deviceClasses: string[] }>('/api/filters');
  assert.deepEqual(f.models, ['iris-mlp']);
  assert.deepEqual(f.versions, ['1', '2']);
  assert.deepEqual(f.backends, ['cpu', 'webgpu']);
  assert.deepEqual(f.deviceClasses, ['cpu', 'gpu-discrete']);
  const v1 = await getJson<{ runs: number; driftAlerts: number }>('/api/overview?version=1');
  assert.equal(v1.runs, samplesA[0]!.length + samplesA[1]!.length);
  assert.equal(v1.driftAlerts, 1);
  const all = await getJson<{ runs: number }>('/api/overview');
  assert.equal(all.runs, v1.runs + 400);
  const cpu = await getJson<{ runs: number }>('/api/overview?backend=cpu&deviceClass=cpu');
  assert.equal(cpu.runs, 400);
});

test('drift per feature over time, alerts listed newest first', async () => {
  type Report = { alertCount: number; features: { feature: string; alerts: number; alerting: boolean; tests: { test: string; last: { t: number; score: number; alert: boolean }; points: { score: number; alert: boolean }[] }[] }[]; alerts: { feature: string; scores: Record<string, number>; version: string }[] };
  const d = await getJson<Report>(`/api/drift?model=iris-mlp&from=${T0}&to=${T0 + 120_000}&buckets=2`);
  assert.deepEqual(d.features.map((x) => x.feature), ['f1', 'f0']); // alerting features first
  const f1 = d.features[0]!;
  assert.equal(f1.alerting, true);
  assert.equal(f1.alerts, 1); // one window, though it has two tests
  assert.deepEqual(f1.tests.map((t) => t.test), ['js', 'psi']);
  const psi = f1.tests[1]!;
  assert.deepEqual(psi.last, { t: T0 + 90_000, score: 0.41, alert: true });
  assert.deepEqual(psi.points.map((p) => [p.score, p.alert]), [[0.05, false], [0.41, true]]);
  assert.equal(d.features[1]!.alerting, false);
  assert.equal(d.alertCount, 1);
  assert.deepEqual(d.alerts.map((a) => [a.feature, a.scores, a.version]), [['f1', { psi: 0.41, js: 0.22 }, '1']]);
  const none = await getJson<{ features: unknown[] }>('/api/drift?version=2');
  assert.equal(none.features.length, 0);
});

test('bad query parameters get a 400 naming them', async () => {
  for (const [q, re] of [['from=abc', /from/], ['from=5&to=4', /before/], ['buckets=0', /buckets/], ['metric=nope', /metric/]] as const) {
    const res = await fetch(`${c.url}/api/latency?${q}`);
    assert.equal(res.status, 400, q);
    assert.match(((await res.json()) as { message: string }).message, re);
  }
});

test('the dashboard page is served and uses only the JSON endpoints', async () => {
  const res = await fetch(`${c.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Kiln telemetry<\/title>/);
  for (const id of ['model', 'version', 'backend', 'device', 'latency', 'features', 'alerts']) assert.match(html, new RegExp(`id="${id}"`));
  const fetched = [...html.matchAll(/api\('([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(fetched)].sort(), ['/api/drift', '/api/filters', '/api/latency', '/api/overview']);
  assert.doesNotMatch(html, /<script src=|https?:\/\/(?!www\.w3\.org)/); // no external requests
  // The inline script parses.
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  assert.doesNotThrow(() => new Function(script));
});

test('/metrics: Prometheus text parses back to the stored numbers', async () => {
  now = T0 + 100_000; // the 5-minute window covers everything
  const res = await fetch(`${c.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const { types, samples } = parsePrometheus(await res.text());
  assert.equal(types.get('kiln_run_duration_milliseconds'), 'summary');
  assert.equal(types.get('kiln_runs_total'), 'counter');
  const find = (name: string, l: Record<string, string>): number[] => samples.filter((s) => s.name === name && Object.entries(l).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
  assert.deepEqual(find('kiln_runs_total', { model: 'iris-mlp', version: '1', backend: 'webgpu', device_class: 'gpu-discrete' }), [samplesA[0]!.length + samplesA[1]!.length]);
  assert.deepEqual(find('kiln_runs_total', { version: '2' }), [400]);
  assert.deepEqual(find('kiln_run_duration_milliseconds_count', { version: '2' }), [400]); // latest cumulative
  const v1 = { model: 'iris-mlp', version: '1', phase: 'total' };
  assert.deepEqual(find('kiln_run_duration_milliseconds_count', v1), [samplesA[0]!.length + samplesA[1]!.length]);
  const sumExpected = [...samplesA[0]!, ...samplesA[1]!].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(find('kiln_run_duration_milliseconds_sum', v1)[0]! - sumExpected) < 1e-6 * sumExpected);
  assertQuantile(find('kiln_run_duration_milliseconds', { ...v1, quantile: '0.99' })[0], [...samplesA[0]!, ...samplesA[1]!], 0.99, 3, '/metrics p99');
  assert.deepEqual(find('kiln_drift_score', { feature: 'f1', test: 'psi' }), [0.41]);
  assert.deepEqual(find('kiln_drift_alert', { feature: 'f1' }), [1, 1]); // psi and js
  assert.deepEqual(find('kiln_drift_alert', { feature: 'f0' }), [0]);
  assert.deepEqual(find('kiln_drift_alerts_total', { feature: 'f1' }), [1]);
  assert.deepEqual(find('kiln_collector_requests_total', { status: '200' }), [c.stats.ingestByStatus.get(200)]);
  assert.deepEqual(find('kiln_collector_batches_total', { outcome: 'stored' }), [8]);
  const inf = find('kiln_collector_ingest_duration_seconds_bucket', { le: '+Inf' });
  assert.deepEqual(inf, find('kiln_collector_ingest_duration_seconds_count', {}));
  // Once the window has passed the quantiles go, the counts stay.
  now = T0 + 60 * 60_000;
  const later = parsePrometheus(await (await fetch(`${c.url}/metrics`)).text()).samples;
  assert.equal(later.filter((s) => s.name === 'kiln_run_duration_milliseconds').length, 0);
  assert.ok(later.some((s) => s.name === 'kiln_run_duration_milliseconds_count'));
});

test('label values are escaped', async () => {
  const odd: Who = { model: 'we"ird\\name\nx', version: '1', backend: 'cpu', deviceClass: 'cpu' };
  assert.equal((await post(c.url, request(odd, [sumMetric(METRIC.runs, 3, T0)]), { key: WRITE_KEY })).status, 200);
  const { samples } = parsePrometheus(await (await fetch(`${c.url}/metrics`)).text());
  assert.deepEqual(samples.filter((s) => s.name === 'kiln_runs_total' && s.labels.model === odd.model).map((s) => s.value), [3]);
});
