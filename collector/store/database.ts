// Opens the collector's SQLite file (better-sqlite3, WAL) and brings its schema up to date.
// One file holds everything: accepted batches (for dedup), their data points, and the
// forwarding outbox, so one transaction covers a whole batch and its forwarding duty.
import Database from 'better-sqlite3';
import { fail } from '../../core/errors.ts';

export type Db = Database.Database;

// 2: outbox.created_ms (the outbox is capped by age), the series table (caps on distinct series).
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY,
  key_id TEXT NOT NULL,          -- SHA-256 prefix of the API key ('' for an open collector): dedup is per key
  batch_id TEXT,                 -- the client's idempotency id; NULL when it sent none
  received_ms INTEGER NOT NULL,
  points INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS batches_dedup ON batches (key_id, batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS batches_received ON batches (received_ms);
CREATE TABLE IF NOT EXISTS points (
  id INTEGER PRIMARY KEY,
  batch INTEGER NOT NULL,        -- batches.id
  metric TEXT NOT NULL,
  kind TEXT NOT NULL,            -- sum | gauge | histogram | exponentialHistogram
  temporality INTEGER NOT NULL,  -- 0 none, 1 delta, 2 cumulative
  time_ms INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  service TEXT, model TEXT, version TEXT, backend TEXT, device_class TEXT,
  phase TEXT, feature TEXT, drift_test TEXT, alert INTEGER, error_code TEXT,
  series TEXT NOT NULL,          -- hash of metric + every attribute: one cumulative stream
  attrs TEXT NOT NULL,           -- every attribute as JSON
  value REAL,                    -- sum and gauge
  count INTEGER, sum REAL, min REAL, max REAL,
  data TEXT                      -- histogram buckets as JSON
);
CREATE INDEX IF NOT EXISTS points_metric_time ON points (metric, time_ms);
CREATE INDEX IF NOT EXISTS points_batch ON points (batch);
CREATE INDEX IF NOT EXISTS points_time ON points (time_ms);  -- retention deletes by age across metrics
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  batch_id TEXT NOT NULL,        -- sent upstream as the idempotency id, so upstream dedups our retries
  body BLOB NOT NULL,            -- gzip of the request JSON as received
  attempts INTEGER NOT NULL DEFAULT 0,
  next_ms INTEGER NOT NULL,
  last_error TEXT,
  created_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_ms);
CREATE TABLE IF NOT EXISTS series (
  series TEXT PRIMARY KEY,       -- points.series
  model TEXT, version TEXT, backend TEXT, device_class TEXT, phase TEXT, feature TEXT, drift_test TEXT, error_code TEXT, service TEXT,
  last_ms INTEGER NOT NULL       -- newest point's time: retention forgets series with no data left
) WITHOUT ROWID;
`;

/** Brings a version-1 file up to version 2 (one transaction; the file stays readable by nothing older). */
function migrateFrom1(db: Db): void {
  db.transaction(() => {
    const cols = (db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('created_ms')) db.exec('ALTER TABLE outbox ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0');
    db.exec('UPDATE outbox SET created_ms = next_ms WHERE created_ms = 0');
    db.exec(`INSERT OR IGNORE INTO series SELECT series, model, version, backend, device_class, phase, feature, drift_test, error_code, service, MAX(time_ms)
      FROM points GROUP BY series`);
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(SCHEMA_VERSION), 'schema_version');
  })();
}

/** How long a statement waits for another connection's lock before SQLITE_BUSY (it blocks the event loop meanwhile). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export function openDatabase(path: string, durability: 'full' | 'normal', busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Db {
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.exec(SCHEMA);
  } catch (e) {
    fail('INVALID_ARGUMENT', `cannot open the collector database ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
  if (row === undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  else if (Number(row.value) > SCHEMA_VERSION) {
    db.close();
    fail('INVALID_ARGUMENT', `collector database ${path} has schema version ${row.value}; this Kiln reads up to ${SCHEMA_VERSION} (written by a newer Kiln?)`);
  } else if (Number(row.value) === 1) migrateFrom1(db);
  return db;
}
