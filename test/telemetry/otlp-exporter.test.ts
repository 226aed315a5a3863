import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MemoryQueue } from '../../runtime/telemetry/export/batch-queue.ts';
import { encodeMetrics, packRequests, attributes } from '../../runtime/telemetry/export/otlp-encode.ts';
import { OtlpExporter, retryAfterMs } from '../../runtime/telemetry/export/otlp-exporter.ts';
import { LatencyRecorder } from '../../runtime/telemetry/latency/latency-recorder.ts';
import { ATTR, BATCH_ID_HEADER, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

interface Received {
  readonly at: number;
  readonly headers: IncomingMessage['headers'];
  readonly json: unknown;
}

/**
 * A local OTLP receiver answering each request with the next scripted status (then 200). While
 * `down`, it drops every connection (the client sees a network error, as when nothing listens):
 * the port is never closed and listened on again, where another process could take it meanwhile.
 */
async function receiver(script: { status: number; headers?: Record<string, string> }[]): Promise<{ url: string; got: Received[]; down: boolean; close(): Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    if (handle.down) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      got.push({ at: Date.now(), headers: req.headers, json: JSON.parse(text) as unknown });
      const step = script.shift() ?? { status: 200 };
      res.writeHead(step.status, { 'Content-Type': 'application/json', ...step.headers });
      res.end(step.status === 200 ? '{}' : '{"error":"scripted"}');
    });
  });
  server.on('connection', (socket) => {
    if (handle.down) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const handle = {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    got,
    down: false,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return handle;
}

function sampleBodies(): string[] {
  const rec = new LatencyRecorder();
  for (let i = 0; i < 50; i++) rec.recordRun(0, 0.1, Math.exp(rng.normal()) + 1, { firstSubmitAt: 0.5, gpuMs: 1 + rng.uniform(), readbackMs: 0.2 });
  rec.recordError('INPUT_MISMATCH');
  const metrics = encodeMetrics({ latency: rec.takePending(), windows: [], dropped: 0, endMs: Date.now() });
  return packRequests(attributes({ [ATTR.serviceName]: 'test', [ATTR.modelName]: 'm' }), metrics, 256 * 1024);
}

/** A clock the test moves by hand: retry timing is checked without waiting out real backoffs. */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let t = Date.UTC(2026, 11, 1);
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const exporterFor = (url: string, queue = new MemoryQueue(), clock?: { now: () => number }): OtlpExporter =>
  new OtlpExporter({ endpoint: url, apiKey: 'k1', maxQueuedBatches: 10, queue, random: () => rng.uniform(), ...(clock ? { now: clock.now } : {}) });

test('a batch arrives gzipped as valid OTLP JSON with the schema names, the bearer key and an idempotency id', async () => {
  const srv = await receiver([]);
  try {
    const ex = exporterFor(srv.url);
    await ex.enqueue(sampleBodies());
    assert.deepEqual(await ex.deliver(), { sent: 1, queued: 0 });
    const [r] = srv.got;
    assert.equal(r!.headers.authorization, 'Bearer k1');
    assert.equal(r!.headers['content-encoding'], 'gzip');
    assert.match(String(r!.headers[BATCH_ID_HEADER.toLowerCase()]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const body = r!.json as { resourceMetrics: { resource: { attributes: { key: string }[] }; scopeMetrics: { metrics: { name: string; exponentialHistogram?: { aggregationTemporality: number; dataPoints: { count: string; scale: number; positive: { offset: number; bucketCounts: string[] }; attributes: { key: string; value: { stringValue?: string } }[] }[] }; sum?: { isMonotonic: boolean } }[] }[] }[] };
    const metrics = body.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    assert.deepEqual(body.resourceMetrics[0]!.resource.attributes.map((a) => a.key), [ATTR.serviceName, ATTR.modelName]);
    const total = metrics.find((m) => m.name === METRIC.runLatency && m.exponentialHistogram!.dataPoints[0]!.attributes[0]!.value.stringValue === 'total')!;
    const point = total.exponentialHistogram!.dataPoints[0]!;
    assert.equal(total.exponentialHistogram!.aggregationTemporality, 1);
    assert.equal(point.count, '50');
    assert.equal(point.scale, 5);
    assert.equal(point.positive.bucketCounts.reduce((a, b) => a + Number(b), 0), 50);
    assert.ok(metrics.some((m) => m.name === METRIC.runs && m.sum?.isMonotonic === true));
    assert.ok(metrics.some((m) => m.name === METRIC.runErrors));
  } finally {
    await srv.close();
  }
});

test('5xx and 429 are retried with the same idempotency id; Retry-After is honoured; 400 is not retried', async () => {
  const srv = await receiver([{ status: 503 }, { status: 429, headers: { 'Retry-After': '1' } }, { status: 400 }]);
  try {
    const clock = manualClock();
    const ex = exporterFor(srv.url, new MemoryQueue(), clock);
    const [body] = sampleBodies();
    await ex.enqueue([body!]);
    // 503: kept, next attempt after a backoff (>= 500 ms with jitter): an immediate retry sends nothing.
    assert.deepEqual(await ex.deliver(), { sent: 0, queued: 1 });
    assert.deepEqual(await ex.deliver(), { sent: 0, queued: 1 });
    assert.equal(srv.got.length, 1);
    clock.advance(499);
    await ex.deliver();
    assert.equal(srv.got.length, 1, 'no retry before the shortest backoff (500 ms)');
    clock.advance(501); // backoff for attempt 1 is at most 1 s
    assert.deepEqual(await ex.deliver(), { sent: 0, queued: 1 }); // 429 + Retry-After: 1
    assert.equal(srv.got.length, 2);
    clock.advance(999);
    await ex.deliver();
    assert.equal(srv.got.length, 2, 'no retry before Retry-After (1 s)');
    clock.advance(1);
    assert.deepEqual(await ex.deliver(), { sent: 0, queued: 0 }); // 400: dropped for good
    assert.equal(srv.got.length, 3, 'the retry went once Retry-After had passed');
    const ids = new Set(srv.got.map((g) => g.headers[BATCH_ID_HEADER.toLowerCase()]));
    assert.equal(ids.size, 1, 'one idempotency id across retries');
    assert.equal(ex.rejectedBatches, 1);
    assert.match(ex.lastError ?? '', /HTTP 400/);
    await ex.deliver();
    assert.equal(srv.got.length, 3, 'a 400 batch is never sent again');
    ex.close();
  } finally {
    await srv.close();
  }
});

test('offline: batches wait in order; the cap drops the oldest and counts them; they replay when the collector is back', async () => {
  const srv = await receiver([]);
  const url = srv.url;
  srv.down = true; // every connection dropped: fetch fails like offline
  const queue = new MemoryQueue();
  const ex = new OtlpExporter({ endpoint: url, maxQueuedBatches: 3, queue });
  const bodies = [1, 2, 3, 4, 5].map((i) => JSON.stringify({ resourceMetrics: [], n: i }));
  await ex.enqueue(bodies);
  assert.equal(ex.droppedBatches, 2);
  assert.equal(ex.takeDrops(), 2);
  assert.equal(ex.takeDrops(), 0);
  assert.deepEqual(await ex.deliver(), { sent: 0, queued: 3 });
  assert.match(ex.lastError ?? '', /network/);
  ex.close();
  // A later session (same queue, as IndexedDB would give it) delivers them, oldest first, with the ids they were made with.
  const ids = (await queue.list(url)).map((b) => b.id);
  for (const b of await queue.list(url)) await queue.update({ ...b, notBefore: 0 });
  srv.down = false; // the collector is back
  try {
    const later = new OtlpExporter({ endpoint: url, maxQueuedBatches: 3, queue });
    assert.deepEqual(await later.deliver(), { sent: 3, queued: 0 });
    assert.deepEqual(srv.got.map((g) => (g.json as { n: number }).n), [3, 4, 5]);
    assert.deepEqual(srv.got.map((g) => g.headers[BATCH_ID_HEADER.toLowerCase()]), ids);
    later.close();
  } finally {
    await srv.close();
  }
});

test('large exports are split into bounded request bodies; Retry-After dates parse', () => {
  const windows = Array.from({ length: 5 }, (_, w) => ({
    window: w + 1, samples: 200, alert: false, threshold: 1e-4, at: new Date().toISOString(),
    features: Array.from({ length: 100 }, (_, i) => ({ name: `x[${i}]`, type: 'numeric' as const, samples: 200, psi: rng.uniform(), js: rng.uniform(), wasserstein: rng.uniform(), pValue: 0.5, drifted: false })),
  }));
  const rec = new LatencyRecorder();
  const metrics = encodeMetrics({ latency: rec.takePending(), windows, dropped: 3, endMs: Date.now() });
  const bodies = packRequests([], metrics, 32 * 1024);
  assert.ok(bodies.length > 3);
  let points = 0;
  for (const b of bodies) {
    assert.ok(b.length <= 32 * 1024, `body of ${b.length} bytes`);
    const m = (JSON.parse(b) as { resourceMetrics: { scopeMetrics: { metrics: { name: string; gauge?: { dataPoints: unknown[] } }[] }[] }[] }).resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    for (const x of m) if (x.name === METRIC.driftScore) points += x.gauge!.dataPoints.length;
  }
  assert.equal(points, 5 * 100 * 3, 'every drift score arrives exactly once');
  assert.ok(bodies.some((b) => b.includes(METRIC.droppedBatches)));
  assert.equal(retryAfterMs('120', 0), 120_000);
  const now = Date.UTC(2026, 11, 1, 12, 0, 0); // a whole second: the HTTP date keeps it exactly
  assert.equal(retryAfterMs(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(retryAfterMs('soon', 0), undefined);
});
