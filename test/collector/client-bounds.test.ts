// What one client may make the collector remember: points dated far from now are refused (a
// point ten years ahead owned the "last 5 minutes" quantiles for good), and new series beyond the
// caps are refused (10 000 invented model names grew /metrics by a megabyte per request). Both
// counted, and told to the client as OTLP partial success.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { start } from './collector-helpers.ts';
import { driftMetric, expPoint, kv, latencyMetric, post, request, sumMetric, type Who } from './otlp-fixtures.ts';
import { parsePrometheus, type PromSample } from './prom-parse.ts';

const who: Who = { model: 'iris', version: '1', backend: 'cpu', deviceClass: 'cpu' };
const YEAR = 365 * 86_400_000;

async function scrape(url: string): Promise<{ text: string; samples: readonly PromSample[] }> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parsePrometheus(text).samples };
}

const refused = (samples: readonly PromSample[], reason: string): number | undefined =>
  samples.find((s) => s.name === 'kiln_collector_points_refused_total' && s.labels.reason === reason)?.value;

test('points dated beyond 10 minutes ahead, or before the retention period, are refused and counted', async () => {
  const now = Date.UTC(2026, 11, 1, 12);
  const c = await start({ now: () => now, retentionDays: 30 });
  try {
    const normal = expPoint([10, 11, 12, 13], 5, now - 30_000, [kv(ATTR.phase, 'total')]);
    const future = expPoint([9000, 9100, 9200, 9300, 9400, 9500, 9600, 9700, 9800], 5, now + 10 * YEAR, [kv(ATTR.phase, 'total')]);
    const ancient = expPoint([5], 5, now - 31 * 86_400_000, [kv(ATTR.phase, 'total')]);
    const soon = expPoint([12], 5, now + 5 * 60_000, [kv(ATTR.phase, 'total')]); // a client clock a little ahead is fine
    const r = await post(c.url, request(who, [latencyMetric([normal, future, ancient, soon])]));
    assert.equal(r.status, 200);
    const partial = r.body.partialSuccess as { rejectedDataPoints: string; errorMessage: string };
    assert.equal(partial.rejectedDataPoints, '2');
    assert.match(partial.errorMessage, /2 dated more than 10 min ahead .* or older than its retention period/);
    const { samples } = await scrape(c.url);
    const p50 = samples.find((s) => s.name === 'kiln_run_duration_milliseconds' && s.labels.quantile === '0.5');
    assert.ok(p50 && p50.value < 20, `the last 5 minutes hold only real latencies, p50 = ${p50?.value}`);
    assert.equal(samples.find((s) => s.name === 'kiln_run_duration_milliseconds_count')?.value, 5);
    assert.equal(refused(samples, 'time'), 2);
  } finally {
    await c.close();
  }
});

test('10 000 invented model names: the first 1 000 are kept, the rest refused; /metrics stops growing', async () => {
  const now = Date.now();
  const c = await start();
  try {
    const flood = (from: number, n: number): Record<string, unknown> => {
      const points = Array.from({ length: n }, (_, i) => ({ attributes: [kv(ATTR.modelName, `model-${from + i}`)], startTimeUnixNano: `${BigInt(now - 1000) * 1_000_000n}`, timeUnixNano: `${BigInt(now) * 1_000_000n}`, asInt: '1' }));
      return request(who, [{ name: METRIC.runs, unit: '1', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: points } }]);
    };
    const first = await post(c.url, flood(0, 5000));
    assert.equal(first.status, 200);
    // 'iris' (the resource's model) is overridden by every point's own name: 1 000 names in all.
    assert.equal((first.body.partialSuccess as { rejectedDataPoints: string }).rejectedDataPoints, '4000');
    const before = await scrape(c.url);
    assert.equal(before.samples.filter((s) => s.name === 'kiln_runs_total').length, 1000);
    const second = await post(c.url, flood(5000, 5000));
    assert.equal((second.body.partialSuccess as { rejectedDataPoints: string }).rejectedDataPoints, '5000');
    const after = await scrape(c.url);
    assert.equal(after.samples.filter((s) => s.name === 'kiln_runs_total').length, 1000);
    assert.ok(after.text.length < before.text.length + 200, `/metrics grew from ${before.text.length} to ${after.text.length} bytes`);
    assert.equal(refused(after.samples, 'series_limit'), 9000);
    // A model already known keeps reporting.
    const again = await post(c.url, flood(0, 3));
    assert.deepEqual(again.body, {});
  } finally {
    await c.close();
  }
});

test('per-model series cap: new features of one model beyond it are refused, other models and known series pass', async () => {
  const now = Date.now();
  const c = await start({ seriesLimits: { seriesPerModel: 10 } });
  try {
    const scores = (prefix: string, n: number): { feature: string; score: number; alert: boolean }[] => Array.from({ length: n }, (_, i) => ({ feature: `${prefix}${i}`, score: 0.01, alert: false }));
    const r1 = await post(c.url, request(who, [driftMetric(scores('f', 25), now)]));
    assert.equal((r1.body.partialSuccess as { rejectedDataPoints: string }).rejectedDataPoints, '15');
    const other: Who = { ...who, model: 'mnist' };
    assert.deepEqual((await post(c.url, request(other, [driftMetric(scores('f', 10), now)]))).body, {});
    assert.deepEqual((await post(c.url, request(who, [driftMetric(scores('f', 10), now + 1)]))).body, {}, 'the first ten features of iris are known');
    const drift = (await (await fetch(`${c.url}/api/drift?model=iris`)).json()) as { features: unknown[] };
    assert.equal(drift.features.length, 10);
    assert.equal(c.stats.pointsRefusedSeries, 15);
    // The runs counter is one more series of iris: refused too, as it is new.
    assert.equal((await post(c.url, request(who, [sumMetric(METRIC.runs, 3, now)]))).body.partialSuccess !== undefined, true);
  } finally {
    await c.close();
  }
});
