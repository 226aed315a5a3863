// Requests that used to reach places they should not: a DNS-rebinding page (Host: its own name)
// reading a loopback collector, and a database locked by another process, which turned a read
// into a 500 and a forward into a process exit. Real HTTP to collectors on 127.0.0.1.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { READ_KEY, start, tempDbPath } from './collector-helpers.ts';
import { latencyMetric, expPoint, post, request, type Who } from './otlp-fixtures.ts';

const who: Who = { model: 'm', version: '1', backend: 'cpu', deviceClass: 'cpu' };

/** GET with an exact Host header (fetch would set its own). */
function getWithHost(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Host: host, ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('bound to loopback, only loopback Host names are answered (DNS rebinding), whatever port a forward gives them', async () => {
  const c = await start({ readKey: READ_KEY });
  try {
    const auth = { Authorization: `Bearer ${READ_KEY}` };
    for (const path of ['/', '/metrics', '/api/overview', '/healthz']) {
      assert.equal(await getWithHost(c.port, path, `evil.example:${c.port}`, auth), 421, `${path} for evil.example`);
      assert.equal(await getWithHost(c.port, path, 'evil.example', auth), 421, `${path} for evil.example without a port`);
      assert.equal(await getWithHost(c.port, path, 'localhost.evil.example', auth), 421, `${path} for a name starting like localhost`);
      assert.equal(await getWithHost(c.port, path, `localhost:${c.port}x`, auth), 421, `${path} with a malformed port`);
    }
    // a port forward or proxy in front of the collector changes the port in Host
    for (const host of [`localhost:${c.port}`, `127.0.0.1:${c.port}`, `[::1]:${c.port}`, `LOCALHOST:${c.port}`, 'localhost', `localhost:${c.port + 1}`, '[::1]']) {
      assert.equal(await getWithHost(c.port, '/metrics', host, auth), 200, host);
    }
  } finally {
    await c.close();
  }
});

test('the read key: only the exact key reads (compared by digest), a prefix or a same-length guess does not', async () => {
  const c = await start({ readKey: READ_KEY });
  try {
    const status = async (key: string): Promise<number> => (await fetch(`${c.url}/metrics`, { headers: { Authorization: `Bearer ${key}` } })).status;
    assert.equal(await status(READ_KEY), 200);
    assert.equal(await status(READ_KEY.slice(0, -1)), 401);
    assert.equal(await status(`${READ_KEY.slice(0, -1)}X`), 401);
    assert.equal(await status(`${READ_KEY}0`), 401);
  } finally {
    await c.close();
  }
});

test('a database locked or failing under us answers 503 with Retry-After; the collector keeps running', async () => {
  const dbPath = tempDbPath();
  const c = await start({ dbPath, busyTimeoutMs: 20 });
  const other = new Database(dbPath);
  try {
    const batch = request(who, [latencyMetric([expPoint([3, 4], 4, Date.now(), [])])]);
    assert.equal((await post(c.url, batch)).status, 200);
    // Another process (a backup tool, the sqlite3 shell) holds the write lock.
    other.exec('BEGIN IMMEDIATE');
    const write = await post(c.url, batch);
    assert.equal(write.status, 503);
    assert.equal(write.headers.get('retry-after'), '5');
    other.exec('ROLLBACK');
    assert.equal((await post(c.url, batch)).status, 200);
    // Reads do not wait for writers in WAL mode; a read that fails on the database (here a table
    // renamed away by another process) must still be an answer, not a crash.
    other.exec('ALTER TABLE outbox RENAME TO outbox_away');
    const metrics = await fetch(`${c.url}/metrics`);
    assert.equal(metrics.status, 503, await metrics.clone().text());
    assert.equal(metrics.headers.get('retry-after'), '5');
    assert.equal((await fetch(`${c.url}/api/overview`)).status, 503);
    other.exec('ALTER TABLE outbox_away RENAME TO outbox');
    assert.equal((await fetch(`${c.url}/metrics`)).status, 200);
  } finally {
    other.close();
    await c.close();
  }
});

test('odd request targets get a 4xx, never a crash', async () => {
  const c = await start();
  try {
    const host = `127.0.0.1:${c.port}`;
    assert.equal(await getWithHost(c.port, `/${'a'.repeat(5000)}`, host), 404);
    assert.equal(await getWithHost(c.port, '/index.html/x', host), 404);
    assert.equal(await getWithHost(c.port, '/%E0%A4%A', host), 404);
    assert.equal(await getWithHost(c.port, `/api/${'x'.repeat(5000)}`, host), 404);
    assert.equal(await getWithHost(c.port, '/healthz', host), 200);
  } finally {
    await c.close();
  }
});
