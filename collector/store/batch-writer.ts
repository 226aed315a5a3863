// Stores one accepted batch: the dedup record, every data point and (when forwarding) the outbox
// entry in one transaction, so a crash leaves either the whole batch or none of it, and a batch
// id seen before (per API key) stores nothing twice, even across restarts.
import { ATTR } from '../../runtime/telemetry/otlp-schema.ts';
import type { MetricPoint } from '../otlp/points.ts';
import type { Db } from './database.ts';
import { LABEL_COLUMNS, labelValues, seriesKey } from './series.ts';

export interface IncomingBatch {
  readonly keyId: string;
  readonly batchId: string | undefined;
  readonly receivedMs: number;
  readonly bytes: number;
  readonly points: readonly MetricPoint[];
  /** gzip of the request body, queued for the upstream when forwarding is on */
  readonly forward?: { readonly body: Buffer; readonly batchId: string };
}

export type StoreOutcome = 'stored' | 'duplicate';

function bucketData(p: MetricPoint): string | null {
  if (p.kind === 'histogram') return JSON.stringify({ b: p.bounds, c: p.bucketCounts });
  if (p.kind === 'exponentialHistogram') return JSON.stringify({ s: p.scale, z: p.zeroCount, p: [p.positive.offset, p.positive.counts], n: [p.negative.offset, p.negative.counts] });
  return null;
}

export function createBatchWriter(db: Db): (batch: IncomingBatch) => StoreOutcome {
  const insertBatch = db.prepare('INSERT OR IGNORE INTO batches (key_id, batch_id, received_ms, points, bytes) VALUES (?, ?, ?, ?, ?)');
  const insertPoint = db.prepare(`INSERT INTO points (batch, metric, kind, temporality, time_ms, start_ms, service, model, version, backend, device_class,
    phase, feature, drift_test, alert, error_code, series, attrs, value, count, sum, min, max, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const cols = LABEL_COLUMNS.map(([c]) => c);
  // The series table remembers each series with the time of its newest point (series caps, retention).
  const upsertSeries = db.prepare(`INSERT INTO series (series, ${cols.join(', ')}, last_ms) VALUES (?, ${cols.map(() => '?').join(', ')}, ?)
    ON CONFLICT (series) DO UPDATE SET last_ms = MAX(last_ms, excluded.last_ms)`);
  const insertOutbox = db.prepare('INSERT INTO outbox (batch_id, body, next_ms, created_ms) VALUES (?, ?, ?, ?)');
  return db.transaction((b: IncomingBatch): StoreOutcome => {
    const res = insertBatch.run(b.keyId, b.batchId ?? null, b.receivedMs, b.points.length, b.bytes);
    if (res.changes === 0) return 'duplicate';
    const batchRow = Number(res.lastInsertRowid);
    for (const p of b.points) {
      const a = p.attrs;
      const series = seriesKey(p.metric, a);
      const labels = labelValues(a);
      upsertSeries.run(series, ...cols.map((c) => labels[c]), p.timeMs);
      const alert = a[ATTR.driftAlert];
      const hist = p.kind === 'histogram' || p.kind === 'exponentialHistogram';
      insertPoint.run(
        batchRow, p.metric, p.kind, p.temporality, p.timeMs, p.startMs,
        labels.service, labels.model, labels.version, labels.backend, labels.device_class,
        labels.phase, labels.feature, labels.drift_test, alert === undefined ? null : alert === true || alert === 'true' ? 1 : 0, labels.error_code,
        series, JSON.stringify(a),
        hist ? null : p.value, hist ? p.count : null, hist ? (p.sum ?? null) : null, hist ? (p.min ?? null) : null, hist ? (p.max ?? null) : null,
        bucketData(p),
      );
    }
    if (b.forward) insertOutbox.run(b.forward.batchId, b.forward.body, b.receivedMs, b.receivedMs);
    return 'stored';
  });
}
