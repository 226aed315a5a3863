// Group commit keeps each batch atomic: a batch that fails half-way rolls back alone, the others
// written in the same transaction are stored, and every caller hears its own outcome.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../collector/store/database.ts';
import { groupCommit } from '../../collector/store/group-commit.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

test('a failing batch in a group rolls back alone', async () => {
  const db = openDatabase(':memory:', 'normal');
  try {
    db.exec('CREATE TABLE t (batch INTEGER, part INTEGER)');
    const ins = db.prepare('INSERT INTO t (batch, part) VALUES (?, ?)');
    const writeOne = db.transaction((b: { id: number; parts: number; failAt?: number }) => {
      for (let p = 0; p < b.parts; p++) {
        if (p === b.failAt) throw new Error(`batch ${b.id} failed at part ${p}`);
        ins.run(b.id, p);
      }
      return b.id;
    });
    const write = groupCommit(db, writeOne);
    const batches = Array.from({ length: 40 }, (_, id) => ({ id, parts: 1 + Math.floor(rng.uniform() * 5), ...(id % 7 === 3 ? { failAt: 1 } : {}) }));
    for (const b of batches) if (b.failAt !== undefined) b.parts = Math.max(b.parts, 2); // fail after writing a part
    const outcomes = await Promise.allSettled(batches.map((b) => write(b))); // all in one tick: one group
    for (const [i, o] of outcomes.entries()) {
      const b = batches[i]!;
      if (b.failAt !== undefined) assert.equal(o.status, 'rejected', `batch ${i}`);
      else assert.deepEqual(o, { status: 'fulfilled', value: b.id });
      const rows = (db.prepare('SELECT COUNT(*) AS n FROM t WHERE batch = ?').get(b.id) as { n: number }).n;
      assert.equal(rows, b.failAt !== undefined ? 0 : b.parts, `rows of batch ${i}`);
    }
  } finally {
    db.close();
  }
});
