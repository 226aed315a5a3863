// Group commit: batches that arrive while the event loop is busy are written in one SQLite
// transaction (one fsync) instead of one each, and each is still answered only after that commit.
// Every batch keeps its own savepoint (better-sqlite3 nests transactions that way), so a batch
// that fails to write rolls back alone and the others in its group are stored.
import type { Db } from './database.ts';

export type GroupedWriter<B, R> = (batch: B) => Promise<R>;

export function groupCommit<B, R>(db: Db, writeOne: (batch: B) => R, maxGroup = 256): GroupedWriter<B, R> {
  type Item = { batch: B; resolve: (r: R) => void; reject: (e: unknown) => void };
  const queue: Item[] = [];
  let scheduled = false;
  const writeGroup = db.transaction((items: Item[]) =>
    items.map((it) => {
      try {
        return { ok: true as const, value: writeOne(it.batch) };
      } catch (error) {
        return { ok: false as const, error };
      }
    }),
  );
  const flush = (): void => {
    scheduled = false;
    const items = queue.splice(0, maxGroup);
    if (queue.length) schedule();
    let results;
    try {
      results = writeGroup(items);
    } catch (e) {
      for (const it of items) it.reject(e); // the commit itself failed: nothing of the group is stored
      return;
    }
    results.forEach((r, i) => (r.ok ? items[i]!.resolve(r.value) : items[i]!.reject(r.error)));
  };
  function schedule(): void {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }
  return (batch) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
      schedule();
    });
}
