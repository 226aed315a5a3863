// Load on loopback: many simulated clients, some batches resent, some malformed, some with bad
// keys, and a collector restart in the middle. Every valid batch must be stored exactly once,
// every bad one refused with the right status, nothing lost. Correctness only: the speed is
// printed by collector/load/bench-ingest.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type { Collector } from '../../collector/index.ts';
import { runLoad } from '../../collector/load/simulate.ts';
import { start, tempDbPath } from './collector-helpers.ts';
import { startTcpFront } from './tcp-front.ts';

const KEYS = ['load-key-aaaaaaaa', 'load-key-bbbbbbbb', 'load-key-cccccccc'];

test('load with a restart midway: every valid batch stored exactly once, every bad one refused', { timeout: 120_000 }, async () => {
  const dbPath = tempDbPath();
  let collector: Collector = await start({ dbPath, apiKeys: KEYS });
  // Clients talk to a front that stays on its port; the restarted collector gets a fresh port behind it.
  const front = await startTcpFront(collector.port);
  const clients = 24;
  const perClient = 16;
  let restarts = 0;
  let answeredAtRestart = 0;
  const result = await runLoad({
    baseUrl: `http://127.0.0.1:${front.port}`,
    clients,
    batchesPerClient: perClient,
    keys: KEYS,
    malformedShare: 0.1,
    badKeyShare: 0.1,
    resendShare: 0.15,
    onAnswer: async (answered) => {
      if (restarts === 0 && answered >= (clients * perClient) / 2) {
        restarts++;
        answeredAtRestart = answered;
        front.target = undefined; // down: connections are dropped while it restarts
        await collector.close();
        collector = await start({ dbPath, apiKeys: KEYS });
        front.target = collector.port;
      }
    },
  });
  await collector.close();
  await front.close();

  const { batches } = result;
  assert.equal(restarts, 1);
  assert.ok(result.latenciesMs.length > answeredAtRestart, 'requests were answered after the restart');
  const valid = batches.filter((b) => b.kind === 'valid');
  for (const b of batches) {
    const expected = b.kind === 'valid' ? 200 : b.kind === 'malformed' ? 400 : 401;
    assert.equal(b.status, expected, `${b.kind} batch ${b.batchId}`);
    if (b.resendStatus !== undefined) assert.equal(b.resendStatus, 200);
  }
  // The simulator draws kinds with Math.random: none malformed in 384 batches has probability
  // 0.9^384 = 2e-18, none bad-key the same, no resend among ~300 valid ones 0.85^300 = 6e-22.
  assert.ok(batches.some((b) => b.kind === 'malformed') && batches.some((b) => b.kind === 'bad-key') && batches.some((b) => b.resendStatus !== undefined));

  const db = new Database(dbPath, { readonly: true });
  try {
    const stored = db.prepare('SELECT batch_id, COUNT(*) AS n, SUM(points) AS points FROM batches GROUP BY batch_id').all() as { batch_id: string; n: number; points: number }[];
    const byId = new Map(stored.map((r) => [r.batch_id, r]));
    assert.equal(stored.length, valid.length, 'one stored batch per valid batch, nothing else');
    for (const b of valid) {
      const row = byId.get(b.batchId);
      assert.ok(row, `valid batch ${b.batchId} was lost`);
      assert.equal(row.n, 1);
      assert.equal(row.points, b.points);
    }
    const points = db.prepare('SELECT COUNT(*) AS n FROM points').get() as { n: number };
    assert.equal(points.n, valid.reduce((a, b) => a + b.points, 0));
    const runs = db.prepare('SELECT SUM(value) AS v FROM points WHERE metric = ?').get(METRIC.runs) as { v: number };
    assert.equal(runs.v, valid.reduce((a, b) => a + b.runs, 0));
    const orphans = db.prepare('SELECT COUNT(*) AS n FROM points WHERE batch NOT IN (SELECT id FROM batches)').get() as { n: number };
    assert.equal(orphans.n, 0);
  } finally {
    db.close();
  }
});
