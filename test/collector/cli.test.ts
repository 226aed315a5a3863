// `kiln collect` through the dispatcher: starts, receives, stops cleanly on SIGTERM; bad options
// are usage errors (exit 2) and bad values typed failures (exit 1).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parseCollectArgs } from '../../trainer-node/cli/commands/collect.ts';
import { CliUsageError } from '../../trainer-node/cli/command.ts';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { tempDbPath } from './collector-helpers.ts';
import { post, request, sumMetric } from './otlp-fixtures.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const kiln = fileURLToPath(new URL('../../trainer-node/cli/kiln.ts', import.meta.url));

test('options parse into startCollector options', () => {
  const o = parseCollectArgs(['--port', '9999', '--host', '0.0.0.0', '--db', 'x.db', '--api-key', 'k1-xxxxxxxx', '--api-key=k2-xxxxxxxx', '--read-key', 'r-xxxxxxxx', '--retention-days', '7', '--forward', 'http://up:4318/v1/metrics', '--max-body', '512k', '--rate-limit', '20/s'], {});
  assert.deepEqual(o, { dbPath: 'x.db', port: 9999, host: '0.0.0.0', apiKeys: ['k1-xxxxxxxx', 'k2-xxxxxxxx'], readKey: 'r-xxxxxxxx', retentionDays: 7, forwardUrl: 'http://up:4318/v1/metrics', maxBodyBytes: 512 * 1024, rateLimitPerSecond: 20 });
  assert.deepEqual(parseCollectArgs([], { KILN_API_KEYS: 'a-xxxxxxxx, b-xxxxxxxx', KILN_READ_KEY: 'r-xxxxxxxx' }), { dbPath: 'kiln-telemetry.db', readKey: 'r-xxxxxxxx', apiKeys: ['a-xxxxxxxx', 'b-xxxxxxxx'] });
  assert.deepEqual(parseCollectArgs(['--outbox-max', '64m', '--outbox-max-age-hours', '12'], {}), { dbPath: 'kiln-telemetry.db', outboxMaxBytes: 64 * 1024 ** 2, outboxMaxAgeHours: 12 });
  for (const bad of [['--outbox-max', 'lots'], ['--outbox-max-age-hours', '0'], ['--port', 'abc'], ['--port', '70000'], ['--max-body', '4 MB'], ['--rate-limit', 'fast'], ['--retention-days', '-1'], ['--bogus'], ['--db'], ['--durability', 'paranoid']]) {
    assert.throws(() => parseCollectArgs(bad, {}), CliUsageError, bad.join(' '));
  }
});

test('kiln collect: usage errors exit 2, bad values exit 1', () => {
  const usage = spawnSync(process.execPath, ['--import', 'tsx', kiln, 'collect', '--port', 'abc'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--port must be an integer/);
  const badKey = spawnSync(process.execPath, ['--import', 'tsx', kiln, 'collect', '--port', '0', '--db', ':memory:', '--api-key', 'short'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(badKey.status, 1);
  assert.match(badKey.stderr, /8 to 256 visible ASCII/);
});

test('kiln collect serves, stores to --db and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const db = tempDbPath();
  const child = spawn(process.execPath, ['--import', 'tsx', kiln, 'collect', '--port', '0', '--db', db, '--api-key', 'cli-key-12345678'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  const runs = 1 + Math.floor(rng.uniform() * 100);
  const r = await post(url, request({ model: 'm', version: '1', backend: 'cpu', deviceClass: 'cpu' }, [sumMetric(METRIC.runs, runs, Date.now())]), { key: 'cli-key-12345678', batchId: randomUUID() });
  assert.equal(r.status, 200);
  assert.equal((await post(url, {}, {})).status, 401);
  const code = await new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
  assert.match(out, /stopped/);
  const d = new Database(db, { readonly: true });
  try {
    assert.deepEqual(d.prepare('SELECT SUM(value) AS v FROM points WHERE metric = ?').get(METRIC.runs), { v: runs });
  } finally {
    d.close();
  }
});
