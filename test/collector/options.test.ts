// startCollector refuses unusable settings with a typed error before anything listens.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { start, tempDbPath, WRITE_KEY } from './collector-helpers.ts';

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad options are INVALID_ARGUMENT errors naming the option', async () => {
  await refused(start({ apiKeys: ['short'] }), /apiKeys.*8 to 256/);
  await refused(start({ apiKeys: [WRITE_KEY], readKey: WRITE_KEY }), /readKey must differ/);
  await refused(start({ port: 70000 }), /port/);
  await refused(start({ retentionDays: 0 }), /retentionDays/);
  await refused(start({ forwardUrl: 'not a url' }), /forwardUrl is not a URL/);
  await refused(start({ forwardUrl: 'ftp://x/v1/metrics' }), /forwardUrl must be http/);
  await refused(start({ maxBodyBytes: 10 }), /maxBodyBytes/);
});

test('a file that is not a SQLite database, and a port in use, are refused clearly', async () => {
  const path = tempDbPath();
  writeFileSync(path, 'this is not a database, it is a text file with enough bytes to look like a header '.repeat(50));
  await refused(start({ dbPath: path }), /cannot open the collector database/);
  const first = await start();
  try {
    await refused(start({ port: first.port }), new RegExp(`port ${first.port} .* already in use`));
  } finally {
    await first.close();
  }
});
