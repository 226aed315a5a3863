// --forward: accepted batches reach an upstream (a second collector) exactly once, from a durable
// outbox, while ingest keeps answering even when the upstream hangs or is down.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Collector } from '../../collector/index.ts';
import { start, tempDbPath, WRITE_KEY } from './collector-helpers.ts';
import { startTcpFront } from './tcp-front.ts';
import { driftMetric, expPoint, latencyMetric, post, randomLatencies, request, sumMetric, type Who } from './otlp-fixtures.ts';
import { parsePrometheus } from './prom-parse.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const UP_KEY = 'upstream-key-987654321';
const who: Who = { model: 'ocr-det', version: '7', backend: 'webgpu', deviceClass: 'gpu-software' };

function batch(runs: number): Record<string, unknown> {
  const t = Date.now();
  return request(who, [latencyMetric([expPoint(randomLatencies(runs, 9), 5, t, [])]), sumMetric(METRIC.runs, runs, t)]);
}

async function runsAt(col: Collector): Promise<{ runs: number; batches: number; outboxPending: number }> {
  return (await (await fetch(`${col.url}/api/overview`)).json()) as { runs: number; batches: number; outboxPending: number };
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('accepted batches are forwarded once, with their ids (upstream dedups)', async () => {
  const upstream = await start({ apiKeys: [UP_KEY] });
  const edge = await start({ apiKeys: [WRITE_KEY], forwardUrl: `${upstream.url}/v1/metrics`, forwardKey: UP_KEY });
  try {
    const runs = Array.from({ length: 12 }, () => 1 + Math.floor(rng.uniform() * 30));
    const ids = runs.map(() => randomUUID());
    await Promise.all(runs.map((r, i) => post(edge.url, batch(r), { key: WRITE_KEY, batchId: ids[i], gzip: i % 2 === 0 })));
    await post(edge.url, batch(runs[0]!), { key: WRITE_KEY, batchId: ids[0] }); // a retry: not forwarded twice
    const total = runs.reduce((a, b) => a + b, 0);
    await until('the upstream to hold every batch', async () => (await runsAt(upstream)).runs >= total);
    await until('the outbox to drain', async () => (await runsAt(edge)).outboxPending === 0);
    const up = await runsAt(upstream);
    assert.equal(up.runs, total);
    assert.equal(up.batches, 12);
    assert.equal(edge.stats.forwarded, 12);
  } finally {
    await edge.close();
    await upstream.close();
  }
});

test('ingest keeps answering while the upstream hangs; the outbox survives a restart and delivers later', async () => {
  // An upstream that accepts connections and never answers.
  const sockets = new Set<import('node:net').Socket>();
  const hang: Server = createServer(() => {});
  hang.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const hangPort = (hang.address() as { port: number }).port;
  const dbPath = tempDbPath();
  const edge1 = await start({ dbPath, forwardUrl: `http://127.0.0.1:${hangPort}/v1/metrics` });
  const runs = Array.from({ length: 20 }, () => 1 + Math.floor(rng.uniform() * 30));
  for (const r of runs) assert.equal((await post(edge1.url, batch(r), { batchId: randomUUID() })).status, 200);
  assert.equal((await runsAt(edge1)).outboxPending, 20);
  await edge1.close(); // aborts the hung posts; they stay in the outbox
  for (const s of sockets) s.destroy();
  await new Promise((r) => hang.close(r));

  // Restart pointing at a real upstream that is not up yet, then bring it up.
  const front = await startTcpFront(); // the upstream comes up behind it later
  const edge2 = await start({ dbPath, forwardUrl: `http://127.0.0.1:${front.port}/v1/metrics` });
  try {
    await until('a failed attempt', async () => edge2.stats.forwardFailures > 0);
    const upstream = await start();
    front.target = upstream.port;
    try {
      await until('the upstream to receive the backlog', async () => (await runsAt(upstream)).runs >= runs.reduce((a, b) => a + b, 0));
      await until('the outbox to drain', async () => (await runsAt(edge2)).outboxPending === 0);
      const up = await runsAt(upstream);
      assert.equal(up.batches, 20);
      assert.equal(up.runs, runs.reduce((a, b) => a + b, 0));
    } finally {
      await upstream.close();
    }
  } finally {
    await edge2.close();
    await front.close();
  }
});

test('a batch the upstream refuses for good is dropped and counted, not retried forever', async () => {
  const upstream = await start({ apiKeys: [UP_KEY], maxBodyBytes: 1024 });
  const edge = await start({ forwardUrl: `${upstream.url}/v1/metrics`, forwardKey: UP_KEY });
  try {
    const features = Array.from({ length: 100 }, () => ({ feature: randomUUID(), score: rng.uniform(), alert: false }));
    const big = request(who, [driftMetric(features, Date.now())]); // random names: > 1 KB even gzipped
    assert.equal((await post(edge.url, big, { batchId: randomUUID() })).status, 200);
    await until('the refusal', async () => edge.stats.forwardDropped === 1);
    assert.equal((await runsAt(edge)).outboxPending, 0);
  } finally {
    await edge.close();
    await upstream.close();
  }
});

test('401/403 from the upstream are final: dropped, counted, said once in the log', async () => {
  const upstream = await start({ apiKeys: [UP_KEY] });
  const lines: string[] = [];
  const edge = await start({ forwardUrl: `${upstream.url}/v1/metrics`, forwardKey: 'not-the-upstream-key', log: (l) => lines.push(l) });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await post(edge.url, batch(3), { batchId: randomUUID() })).status, 200);
    await until('all five refusals', async () => edge.stats.forwardDropped === 5);
    assert.equal((await runsAt(edge)).outboxPending, 0);
    assert.equal(edge.stats.forwardFailures, 0, 'never retried');
    assert.equal(lines.filter((l) => /refused for good \(HTTP 401/.test(l)).length, 1, lines.join('\n'));
    assert.equal((await runsAt(upstream)).batches, 0);
  } finally {
    await edge.close();
    await upstream.close();
  }
});

test('the outbox is capped by bytes and by age: oldest dropped first, counted in stats and /metrics', async () => {
  const down = await startTcpFront(); // drops every connection: every post fails and the outbox only grows
  const downPort = down.port;
  let now = Date.now();
  const dbPath = tempDbPath();
  const cap = 4096;
  const edge = await start({ dbPath, forwardUrl: `http://127.0.0.1:${downPort}/v1/metrics`, outboxMaxBytes: cap, outboxMaxAgeHours: 1, now: () => now });
  const peek = new Database(dbPath, { readonly: true });
  try {
    // Random feature names hardly compress: each batch is about a kilobyte of gzip.
    const features = (n: number): { feature: string; score: number; alert: boolean }[] => Array.from({ length: n }, (_, i) => ({ feature: randomUUID(), score: i / n, alert: false }));
    const ids = Array.from({ length: 10 }, () => randomUUID());
    for (const id of ids) {
      assert.equal((await post(edge.url, request(who, [driftMetric(features(30), now)]), { batchId: id })).status, 200);
      const bytes = (peek.prepare('SELECT TOTAL(length(body)) AS n FROM outbox').get() as { n: number }).n;
      assert.ok(bytes <= cap, `outbox holds ${bytes} bytes after a post, cap ${cap}`);
    }
    const kept = (peek.prepare('SELECT batch_id FROM outbox ORDER BY id').all() as { batch_id: string }[]).map((r) => r.batch_id);
    const full = edge.stats.outboxDroppedFull;
    assert.ok(full > 0 && kept.length > 0);
    assert.equal(full + kept.length, ids.length);
    assert.deepEqual(kept, ids.slice(full), 'the oldest went first');
    // Two hours later one more batch arrives: everything queued before it is too old.
    now += 2 * 3_600_000;
    assert.equal((await post(edge.url, request(who, [driftMetric(features(2), now)]), { batchId: 'late' })).status, 200);
    assert.equal(edge.stats.outboxDroppedExpired, kept.length);
    assert.deepEqual(peek.prepare('SELECT batch_id FROM outbox').all(), [{ batch_id: 'late' }]);
    const prom = parsePrometheus(await (await fetch(`${edge.url}/metrics`)).text());
    const dropped = (reason: string): number | undefined => prom.samples.find((s) => s.name === 'kiln_collector_outbox_dropped_total' && s.labels.reason === reason)?.value;
    assert.equal(dropped('full'), full);
    assert.equal(dropped('expired'), kept.length);
  } finally {
    peek.close();
    await edge.close();
    await down.close();
  }
});

test('a database lock held elsewhere while a forward completes is retried, never a crash', async () => {
  // An upstream that holds each post until the test lets it answer.
  const held: (() => void)[] = [];
  let received = 0;
  const upstream: Server = createServer((req, res) => {
    received++;
    req.resume();
    held.push(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as { port: number }).port;
  const dbPath = tempDbPath();
  const lines: string[] = [];
  const edge = await start({ dbPath, forwardUrl: `http://127.0.0.1:${upPort}/v1/metrics`, busyTimeoutMs: 50, log: (l) => lines.push(l) });
  const other = new Database(dbPath);
  try {
    assert.equal((await post(edge.url, batch(4), { batchId: randomUUID() })).status, 200);
    await until('the post to reach the upstream', async () => held.length === 1);
    other.exec('BEGIN IMMEDIATE'); // another process (a backup, the sqlite3 shell) holds the write lock
    held.shift()!();
    await until('the failed removal to be logged', async () => edge.stats.forwardDbErrors > 0);
    assert.match(lines.join('\n'), /removing a forwarded batch failed on the database \(database is locked\)/);
    assert.equal((await fetch(`${edge.url}/healthz`)).status, 200, 'still serving');
    other.exec('ROLLBACK');
    // The next batch wakes the forwarder: the first one goes again (the upstream dedups by id).
    assert.equal((await post(edge.url, batch(2), { batchId: randomUUID() })).status, 200);
    await until('both posts', async () => {
      while (held.length) held.shift()!();
      return (await runsAt(edge)).outboxPending === 0;
    });
    assert.equal(received, 3);
    assert.equal(edge.stats.forwarded, 2);
  } finally {
    other.close();
    await edge.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});
