// Exponential histograms built to break the collector: bucket indices near 2^31 (a 32-bit shift
// wrapped them and one cumulative pair allocated an array of 2^31 entries, a fatal OOM), scales
// outside OTLP's range, counts near 2^53 (SQLite's SUM overflowed and /metrics answered 500 for
// good). Refused at ingest; and points stored before these checks never crash the read side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { maxBucketIndex } from '../../collector/sketch/exp-bounds.ts';
import { subtractExp } from '../../collector/sketch/exp-delta.ts';
import { ExpHistogramMerger, type ExpHistogramInput } from '../../collector/sketch/exp-histogram.ts';
import { start, tempDbPath } from './collector-helpers.ts';
import { expPoint, latencyMetric, nanos, post, request, type Who } from './otlp-fixtures.ts';
import { parsePrometheus } from './prom-parse.ts';

const who: Who = { model: 'm', version: '1', backend: 'cpu', deviceClass: 'cpu' };
const NEAR_2_31 = 2 ** 31 - 3;

function hist(scale: number, offset: number, counts: number[]): ExpHistogramInput {
  const n = counts.reduce((a, b) => a + b, 0);
  return { scale, zeroCount: 0, positive: { offset, counts }, negative: { offset: 0, counts: [] }, count: n };
}

test('subtracting snapshots whose indices cross 2^31 stays as narrow as its input', () => {
  // Same scale: `(offset + k) >> 0` wrapped 2^31 to -2^31 and the delta spanned 2^32 buckets.
  const same = subtractExp(hist(20, NEAR_2_31, [5, 5, 5, 5]), hist(20, NEAR_2_31, [1, 1, 1, 1]));
  assert.deepEqual(same.positive, { offset: NEAR_2_31, counts: [4, 4, 4, 4] });
  // The newer point at a finer scale: brought down one step, by division.
  const mixed = subtractExp(hist(20, NEAR_2_31, [5, 5, 5, 5]), hist(19, Math.floor(NEAR_2_31 / 2), [1, 1, 1]));
  assert.equal(mixed.scale, 19);
  assert.deepEqual(mixed.positive, { offset: Math.floor(NEAR_2_31 / 2), counts: [4, 9, 4] });
});

test('the merger skips histograms no real value can make, and still merges the largest legal indices', () => {
  const m = new ExpHistogramMerger();
  assert.equal(m.add(hist(20, NEAR_2_31, [1, 1])), false, 'index beyond any double at scale 20');
  assert.equal(m.add(hist(25, 0, [1])), false, 'scale above 20');
  assert.equal(m.add({ ...hist(0, 0, [1]), count: 2 ** 53 }), false, 'count above 2^40');
  assert.equal(m.skipped, 3);
  assert.equal(m.count, 0);
  // The widest legal spread: one value near the largest double, one of 1.0, at scale 20.
  const top = maxBucketIndex(20) - 1;
  assert.equal(m.add(hist(20, top, [1])), true);
  assert.equal(m.add(hist(20, 0, [1])), true);
  assert.equal(m.count, 2);
  assert.ok(m.currentScale <= 0, `lowered to ${m.currentScale} to keep at most 2048 buckets`);
  const low = m.quantile(0)!;
  assert.ok(low >= 1 && low <= 2 ** (2 ** -m.currentScale), `the low sample reads back in its bucket, got ${low}`);
});

test('ingest refuses out-of-range offsets, scales and counts with the field named; the collector keeps serving', async () => {
  const c = await start();
  try {
    const t = Date.now();
    const cumulative = (p: Record<string, unknown>): Record<string, unknown> => ({ name: METRIC.runLatency, unit: 'ms', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [p] } });
    const base = { startTimeUnixNano: nanos(t - 60_000), zeroCount: '0' };
    // The crash report's batch: a cumulative point at an offset near 2^31, then a finer one.
    const first = { ...base, timeUnixNano: nanos(t - 1000), scale: 0, count: '4', positive: { offset: NEAR_2_31, bucketCounts: ['1', '1', '1', '1'] } };
    const second = { ...base, timeUnixNano: nanos(t), scale: 1, count: '8', positive: { offset: 2 * NEAR_2_31, bucketCounts: ['2', '2', '2', '2'] } };
    const r1 = await post(c.url, request(who, [cumulative(first)]));
    assert.equal(r1.status, 400);
    assert.match(r1.body.message ?? '', /dataPoints\[0\]\.positive\.offset: buckets .* lie outside \[-1075, 1075\]/);
    const r2 = await post(c.url, request(who, [cumulative(second)]));
    assert.equal(r2.status, 400);
    const huge = { ...expPoint([1, 2], 5, t, []), count: String(2 ** 50 + 2), zeroCount: String(2 ** 50) };
    const r3 = await post(c.url, request(who, [latencyMetric([huge])]));
    assert.equal(r3.status, 400);
    assert.match(r3.body.message ?? '', /zeroCount: must be <= 1099511627776/);
    assert.equal((await fetch(`${c.url}/metrics`)).status, 200);
    assert.equal((await fetch(`${c.url}/healthz`)).status, 200);
  } finally {
    await c.close();
  }
});

test('points stored before the checks (wrapping offsets, SUM overflow, broken JSON) cannot crash the read side', async () => {
  const dbPath = tempDbPath();
  const t = Date.now();
  const good = expPoint([4, 5, 6], 3, t - 2000, []);
  const first = await start({ dbPath });
  assert.equal((await post(first.url, request(who, [latencyMetric([good])]))).status, 200);
  await first.close();

  // What an older collector let through, written straight into the file.
  const db = new Database(dbPath);
  const insert = db.prepare(`INSERT INTO points (batch, metric, kind, temporality, time_ms, start_ms, model, version, backend, device_class, phase, series, attrs, count, data)
    VALUES (1, ?, 'exponentialHistogram', ?, ?, ?, 'm', '1', 'cpu', 'cpu', 'total', ?, '{}', ?, ?)`);
  const stored = (scale: number, offset: number, counts: number[]): string => JSON.stringify({ s: scale, z: 0, p: [offset, counts], n: [0, []] });
  insert.run(METRIC.runLatency, 2, t - 1000, t - 60_000, 'cum', 4, stored(0, NEAR_2_31, [1, 1, 1, 1]));
  insert.run(METRIC.runLatency, 2, t - 500, t - 60_000, 'cum', 8, stored(1, 2 * NEAR_2_31, [2, 2, 2, 2]));
  insert.run(METRIC.runLatency, 1, t - 400, t - 60_000, 'big1', 5_000_000_000_000_000_000n, stored(0, 0, [1]));
  insert.run(METRIC.runLatency, 1, t - 300, t - 60_000, 'big2', 5_000_000_000_000_000_000n, stored(0, 0, [1]));
  insert.run(METRIC.runLatency, 1, t - 200, t - 60_000, 'junk', 1, '{"s": 3, "p": "not buckets"');
  db.close();

  const c = await start({ dbPath });
  try {
    const metrics = await fetch(`${c.url}/metrics`);
    assert.equal(metrics.status, 200, await metrics.clone().text());
    const prom = parsePrometheus(await metrics.text());
    const p50 = prom.samples.find((s) => s.name === 'kiln_run_duration_milliseconds' && s.labels.quantile === '0.5');
    assert.ok(p50 && p50.value >= 4 && p50.value <= 6, `p50 from the one good point, got ${p50?.value}`);
    const lat = await fetch(`${c.url}/api/latency?metric=run&phase=all`);
    assert.equal(lat.status, 200, await lat.clone().text());
    const body = (await lat.json()) as { overall: { count: number } };
    assert.equal(body.overall.count, 3, 'only the good point is counted');
  } finally {
    await c.close();
  }
});
