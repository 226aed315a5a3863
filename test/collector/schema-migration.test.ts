// A database written by the previous collector (schema 1: no series table, no outbox.created_ms)
// opens, keeps its data and forwarding duty, and gets what the caps need.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { start, tempDbPath } from './collector-helpers.ts';
import { driftMetric, post, request, sumMetric, type Who } from './otlp-fixtures.ts';

const who: Who = { model: 'iris', version: '1', backend: 'cpu', deviceClass: 'cpu' };

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('a schema-1 file is migrated: series backfilled, outbox rows dated, data kept', async () => {
  const dbPath = tempDbPath();
  const forwardUrl = `http://127.0.0.1:${await deadPort()}/v1/metrics`;
  const t = Date.now();
  const first = await start({ dbPath, forwardUrl });
  const batch = request(who, [sumMetric(METRIC.runs, 7, t), driftMetric([{ feature: 'a', score: 0.1, alert: false }, { feature: 'b', score: 0.2, alert: false }], t)]);
  assert.equal((await post(first.url, batch)).status, 200);
  await first.close();

  // Back to what schema 1 looked like.
  const old = new Database(dbPath);
  old.exec("DROP TABLE series; ALTER TABLE outbox DROP COLUMN created_ms; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
  const nextMs = (old.prepare('SELECT next_ms FROM outbox').get() as { next_ms: number }).next_ms;
  old.close();

  const second = await start({ dbPath, forwardUrl, seriesLimits: { seriesPerModel: 3 } });
  try {
    const overview = (await (await fetch(`${second.url}/api/overview`)).json()) as { runs: number; outboxPending: number };
    assert.equal(overview.runs, 7);
    assert.equal(overview.outboxPending, 1);
    // The three known series of iris fill its cap of 3: a fourth is refused, known ones pass.
    const fourth = await post(second.url, request(who, [driftMetric([{ feature: 'c', score: 0.1, alert: false }], t + 1)]));
    assert.equal((fourth.body.partialSuccess as { rejectedDataPoints: string } | undefined)?.rejectedDataPoints, '1');
    assert.deepEqual((await post(second.url, request(who, [sumMetric(METRIC.runs, 1, t + 2)]))).body, {});
  } finally {
    await second.close();
  }
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, '2');
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM series').get() as { n: number }).n, 3);
    const rows = db.prepare('SELECT created_ms FROM outbox ORDER BY id').all() as { created_ms: number }[];
    assert.equal(rows[0]!.created_ms, nextMs, 'a migrated row is dated by its next attempt');
  } finally {
    db.close();
  }
});
