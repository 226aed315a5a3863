// The OTLP receiver's answers: 200 stores, every refusal has the right status and names its cause.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BATCH_ID_HEADER, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Collector } from '../../collector/index.ts';
import { OTHER_KEY, READ_KEY, start, tempDbPath, WRITE_KEY } from './collector-helpers.ts';
import { driftMetric, expPoint, latencyMetric, post, randomLatencies, request, sumMetric, type Who } from './otlp-fixtures.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const who: Who = { model: 'mnist-cnn', version: '3', backend: 'webgpu', deviceClass: 'gpu-integrated' };
let c: Collector;

function goodBatch(runs: number, timeMs = Date.now()): Record<string, unknown> {
  return request(who, [latencyMetric([expPoint(randomLatencies(runs, 4), 5, timeMs, [])]), sumMetric(METRIC.runs, runs, timeMs)]);
}

async function overview(col: Collector): Promise<{ batches: number; runs: number; points: number }> {
  const res = await fetch(`${col.url}/api/overview`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { batches: number; runs: number; points: number };
}

before(async () => {
  c = await start({ apiKeys: [WRITE_KEY, OTHER_KEY], readKey: READ_KEY, maxBodyBytes: 64 * 1024 });
});
after(() => c.close());

test('200: a valid batch, plain or gzip, is stored', async () => {
  const before = await overview(c);
  const runsA = 1 + Math.floor(rng.uniform() * 50);
  const runsB = 1 + Math.floor(rng.uniform() * 50);
  const a = await post(c.url, goodBatch(runsA), { key: WRITE_KEY, batchId: randomUUID() });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.deepEqual(a.body, {});
  const b = await post(c.url, goodBatch(runsB), { key: OTHER_KEY, batchId: randomUUID(), gzip: true });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const now = await overview(c);
  assert.equal(now.batches - before.batches, 2);
  assert.equal(now.runs - before.runs, runsA + runsB);
});

test('400 names the bad field', async () => {
  const t = Date.now();
  const cases: { body: unknown; field: RegExp }[] = [
    { body: '{"resourceMetrics": [', field: /not valid JSON/ },
    { body: [], field: /\(body\): expected an object/ },
    { body: { resourceMetrics: {} }, field: /resourceMetrics: expected an array/ },
    { body: request(who, [{ name: METRIC.runs }]), field: /resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]: metric kiln\.runs has none of/ },
    { body: request(who, [{ unit: 'ms', gauge: { dataPoints: [] } }]), field: /metrics\[0\]\.name: is required/ },
    { body: request(who, [sumMetric(METRIC.runs, 1, t), { name: METRIC.driftScore, gauge: { dataPoints: [{ timeUnixNano: String(t * 1e6), asDouble: 'abc' }] } }]), field: /metrics\[1\]\.gauge\.dataPoints\[0\]\.asDouble: expected a finite number/ },
    { body: request(who, [{ name: METRIC.runLatency, gauge: { dataPoints: [] } }]), field: /metrics\[0\]\.gauge: metric kiln\.run\.duration must be sent as exponentialHistogram or histogram/ },
    { body: request(who, [driftMetric([{ feature: 'x', score: 0.3, alert: true }], t)].map((m) => ({ ...m, gauge: { dataPoints: [{ timeUnixNano: String(t * 1e6), asDouble: 0.2 }] } }))), field: /needs a string attribute kiln\.feature/ },
    { body: request(who, [latencyMetric([{ ...expPoint([1, 2, 3], 5, t, []), count: '4' }])]), field: /exponentialHistogram\.dataPoints\[0\]\.count: is 4 but zeroCount and the buckets hold 3/ },
    { body: request(who, [latencyMetric([{ ...expPoint([1, 2], 5, t, []), scale: 40 }])]), field: /dataPoints\[0\]\.scale: must be in \[-10, 20\]/ },
    { body: request(who, [latencyMetric([{ ...expPoint([1, 2], 5, t, []), timeUnixNano: undefined }])]), field: /dataPoints\[0\]\.timeUnixNano: is required/ },
    { body: request(who, [{ ...sumMetric(METRIC.runs, 1, t), sum: { aggregationTemporality: 0, dataPoints: [] } }]), field: /sum\.aggregationTemporality: is required/ },
    { body: { resourceMetrics: [{ resource: { attributes: [{ key: 'a', value: { boolValue: 'yes' } }] }, scopeMetrics: [] }] }, field: /resourceMetrics\[0\]\.resource\.attributes\[0\]\.value\.boolValue: expected true or false/ },
  ];
  const before = await overview(c);
  for (const { body, field } of cases) {
    const r = await post(c.url, body, { key: WRITE_KEY, batchId: randomUUID() });
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 120)} -> ${r.status}`);
    assert.equal(r.body.code, 3); // google.rpc.Status INVALID_ARGUMENT
    assert.match(String(r.body.message), field);
  }
  const bad = await post(c.url, goodBatch(1), { key: WRITE_KEY, batchId: 'has space' });
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.message), new RegExp(BATCH_ID_HEADER));
  const notGzip = await post(c.url, 'plain', { key: WRITE_KEY, headers: { 'Content-Encoding': 'gzip' } });
  assert.equal(notGzip.status, 400);
  assert.match(String(notGzip.body.message), /not valid gzip/);
  // A refused batch stores nothing, not even its valid first metric.
  const now = await overview(c);
  assert.equal(now.batches, before.batches);
  assert.equal(now.points, before.points);
});

test('401: no key, an unknown key, or the read key used to write', async () => {
  for (const key of [undefined, 'not-a-real-key-123', READ_KEY]) {
    const r = await post(c.url, goodBatch(1), key === undefined ? {} : { key });
    assert.equal(r.status, 401, String(key));
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.match(String(r.body.message), key === undefined ? /API key is required/ : /not accepted/);
  }
});

test('write keys cannot read; the read key can', async () => {
  for (const path of ['/api/overview', '/api/latency', '/api/drift', '/api/filters', '/metrics']) {
    const none = await fetch(`${c.url}${path}`);
    assert.equal(none.status, 401, path);
    const write = await fetch(`${c.url}${path}`, { headers: { Authorization: `Bearer ${WRITE_KEY}` } });
    assert.equal(write.status, 401, path);
    assert.match(((await write.json()) as { message: string }).message, /write-only/);
    const read = await fetch(`${c.url}${path}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
    assert.equal(read.status, 200, path);
  }
});

test('413: a body over the cap, on the wire or after gzip', async () => {
  const big = JSON.stringify({ resourceMetrics: [], pad: 'x'.repeat(70 * 1024) });
  const r = await post(c.url, big, { key: WRITE_KEY });
  assert.equal(r.status, 413);
  assert.match(String(r.body.message), /65536 bytes/);
  // 1 MB of spaces gzips to ~1 KB: under the wire cap, over the decoded cap (10x).
  const bomb = `{"resourceMetrics":[]${' '.repeat(1024 * 1024)}}`;
  assert.ok(gzipSync(bomb).length < 64 * 1024);
  const z = await post(c.url, bomb, { key: WRITE_KEY, gzip: true });
  assert.equal(z.status, 413);
  assert.match(String(z.body.message), /gzip body decodes to more than/);
  // The collector still answers afterwards.
  assert.equal((await post(c.url, goodBatch(1), { key: WRITE_KEY })).status, 200);
});

test('415: protobuf, other content types and unknown encodings', async () => {
  const proto = await post(c.url, 'x', { key: WRITE_KEY, contentType: 'application/x-protobuf' });
  assert.equal(proto.status, 415);
  assert.match(String(proto.body.message), /protobuf bodies are not supported.*application\/json/);
  assert.equal((await post(c.url, 'x', { key: WRITE_KEY, contentType: 'text/plain' })).status, 415);
  const br = await post(c.url, goodBatch(1), { key: WRITE_KEY, headers: { 'Content-Encoding': 'br' } });
  assert.equal(br.status, 415);
  assert.match(String(br.body.message), /Content-Encoding br/);
});

test('CORS: preflight allows the exporter headers; answers carry the origin', async () => {
  const pre = await fetch(`${c.url}/v1/metrics`, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,content-encoding,authorization,idempotency-key' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  const allowed = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
  for (const h of ['content-type', 'content-encoding', 'authorization', BATCH_ID_HEADER.toLowerCase()]) assert.ok(allowed.includes(h), h);
  const r = await post(c.url, goodBatch(1), { key: WRITE_KEY, headers: { Origin: 'https://app.example' } });
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const refused = await post(c.url, goodBatch(1), { key: 'wrong-key-1234567' });
  assert.equal(refused.headers.get('access-control-allow-origin'), '*'); // a browser can read why it was refused
  assert.match(refused.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
});

test('429 with Retry-After once a key exceeds its rate; other keys unaffected', async () => {
  let now = 1_000_000;
  const rc = await start({ apiKeys: [WRITE_KEY, OTHER_KEY], rateLimitPerSecond: 3, now: () => now });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(rc.url, goodBatch(1), { key: WRITE_KEY, batchId: randomUUID() })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const limited = await post(rc.url, goodBatch(1), { key: WRITE_KEY });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.match(String(limited.body.message), /3 batches\/s/);
    assert.equal((await post(rc.url, goodBatch(1), { key: OTHER_KEY })).status, 200);
    now += 1000; // the bucket refills
    assert.equal((await post(rc.url, goodBatch(1), { key: WRITE_KEY })).status, 200);
  } finally {
    await rc.close();
  }
});

test('dedup: a retried batch id is stored once per key; another key may reuse the id', async () => {
  const before = await overview(c);
  const id = randomUUID();
  const body = goodBatch(7);
  const first = await post(c.url, body, { key: WRITE_KEY, batchId: id });
  const again = await post(c.url, body, { key: WRITE_KEY, batchId: id, gzip: true });
  assert.equal(first.status, 200);
  assert.equal(again.status, 200); // the client must stop retrying
  assert.equal(first.headers.get('kiln-batch'), 'stored');
  assert.equal(again.headers.get('kiln-batch'), 'duplicate');
  const other = await post(c.url, body, { key: OTHER_KEY, batchId: id });
  assert.equal(other.headers.get('kiln-batch'), 'stored');
  const now = await overview(c);
  assert.equal(now.batches - before.batches, 2);
  assert.equal(now.runs - before.runs, 14);
});

test('durable: batches and dedup records survive close + reopen of the same file', async () => {
  const dbPath = tempDbPath();
  const ids = Array.from({ length: 5 }, () => randomUUID());
  const runs = ids.map(() => 1 + Math.floor(rng.uniform() * 20));
  const first = await start({ dbPath, apiKeys: [WRITE_KEY] });
  for (let i = 0; i < ids.length; i++) assert.equal((await post(first.url, goodBatch(runs[i]!), { key: WRITE_KEY, batchId: ids[i] })).status, 200);
  await first.close();
  const second = await start({ dbPath, apiKeys: [WRITE_KEY] });
  try {
    const o = (await (await fetch(`${second.url}/api/overview`)).json()) as { batches: number; runs: number };
    assert.equal(o.batches, 5);
    assert.equal(o.runs, runs.reduce((a, b) => a + b, 0));
    const retry = await post(second.url, goodBatch(runs[2]!), { key: WRITE_KEY, batchId: ids[2] });
    assert.equal(retry.headers.get('kiln-batch'), 'duplicate');
    const o2 = (await (await fetch(`${second.url}/api/overview`)).json()) as { batches: number };
    assert.equal(o2.batches, 5);
  } finally {
    await second.close();
  }
});

test('retention deletes points older than the period, keeps newer ones', async () => {
  const end = Date.UTC(2026, 10, 24);
  const day = 86_400_000;
  let now = end;
  const rc = await start({ retentionDays: 7, now: () => now });
  try {
    const ages = [20, 10, 8, 6, 3, 1]; // days old at the end
    // Each batch arrives when it is fresh (points older than the retention period are refused at ingest).
    for (const age of ages) {
      now = end - age * day;
      assert.equal((await post(rc.url, goodBatch(age, now), { batchId: `b${age}` })).status, 200);
    }
    now = end;
    const all = (await (await fetch(`${rc.url}/api/overview`)).json()) as { runs: number };
    assert.equal(all.runs, ages.reduce((a, b) => a + b, 0));
    const removed = rc.runRetention();
    assert.equal(removed.points, 3 * 2); // the 8-, 10- and 20-day-old batches, 2 points each
    const kept = (await (await fetch(`${rc.url}/api/overview`)).json()) as { runs: number };
    assert.equal(kept.runs, 1 + 3 + 6);
    now += 2 * day; // dedup records go by arrival time: the 6-day-old one is now 8 days old
    assert.equal(rc.runRetention().batches, 1);
    now += 6 * day;
    assert.equal(rc.runRetention().batches, 2);
  } finally {
    await rc.close();
  }
});

test('405 and 404 are clear', async () => {
  const get = await fetch(`${c.url}/v1/metrics`);
  assert.equal(get.status, 405);
  const traces = await fetch(`${c.url}/v1/traces`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(traces.status, 404);
  assert.match(((await traces.json()) as { message: string }).message, /metrics only/);
});

test('close() does not wait forever for a client stalled mid-body', { timeout: 30_000 }, async () => {
  const sc = await start();
  const { connect } = await import('node:net');
  const sock = connect(sc.port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(`POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1:${sc.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"resourceMetrics":`);
  await new Promise((r) => setTimeout(r, 100)); // the request is now in flight, waiting for its body
  sock.on('error', () => {});
  await sc.close(); // resolves once the grace period cuts the stalled connection
  assert.ok(sock.destroyed || sock.readableEnded || (await new Promise((r) => sock.once('close', () => r(true)))));
});

test('retention in chunks: a large backlog is swept at start, in pieces', { timeout: 60_000 }, async () => {
  const day = 86_400_000;
  const end = Date.UTC(2026, 10, 24);
  let now = end - 10 * day;
  const dbPath = tempDbPath();
  // 12 000 distinct features: above the default cap on distinct label values, raised for this test.
  const seriesLimits = { labelValues: 20_000 };
  const first = await start({ dbPath, retentionDays: 7, now: () => now, seriesLimits });
  const features = (n: number, k: number): { feature: string; score: number; alert: boolean }[] => Array.from({ length: n }, (_, i) => ({ feature: `f${k}-${i}`, score: rng.uniform(), alert: false }));
  const big = request(who, [driftMetric(features(6000, 0), now), driftMetric(features(6000, 1), now)]);
  assert.equal((await post(first.url, big, { batchId: 'big' })).status, 200);
  now = end;
  assert.equal((await post(first.url, request(who, [sumMetric(METRIC.runs, 5, now)]), { batchId: 'fresh' })).status, 200);
  await first.close();
  now += 1000;
  const second = await start({ dbPath, retentionDays: 7, now: () => now, seriesLimits });
  try {
    const points = async (): Promise<number> => ((await (await fetch(`${second.url}/api/overview`)).json()) as { points: number }).points;
    const end = Date.now() + 30_000;
    while ((await points()) > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await points(), 1); // the 12 000 old drift points went, the fresh run count stayed
  } finally {
    await second.close();
  }
});

test('API keys are never written to the database', async () => {
  const dbPath = tempDbPath();
  const kc = await start({ dbPath, apiKeys: [WRITE_KEY], durability: 'full' });
  assert.equal((await post(kc.url, goodBatch(3), { key: WRITE_KEY, batchId: randomUUID() })).status, 200);
  const { readFileSync, existsSync } = await import('node:fs');
  const files = [dbPath, `${dbPath}-wal`].filter((f) => existsSync(f));
  for (const f of files) assert.equal(readFileSync(f).includes(WRITE_KEY), false, f);
  await kc.close();
  assert.equal(readFileSync(dbPath).includes(WRITE_KEY), false);
});
