// Stores one accepted batch: the dedup record, every data point and (when forwarding) the outbox
// entry in one transaction, so a crash leaves either the whole batch or none of it, and a batch
// id seen before (per API key) stores nothing twice, even across restarts.
import { createHash } from 'node:crypto';
import { ATTR } from '../../runtime/telemetry/otlp-schema.ts';
import type { Attributes, AttrValue, MetricPoint } from '../otlp/points.ts';
import type { Db } from './database.ts';

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

const str = (v: AttrValue | undefined): string | null => (v === undefined ? null : String(v));

function seriesKey(metric: string, attrs: Attributes): string {
  const canonical = JSON.stringify([metric, ...Object.keys(attrs).sort().map((k) => [k, attrs[k]])]);
  return createHash('sha1').update(canonical).digest('base64url');
}

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
  const insertOutbox = db.prepare('INSERT INTO outbox (batch_id, body, next_ms, created_ms) VALUES (?, ?, ?, ?)');
  return db.transaction((b: IncomingBatch): StoreOutcome => {
    const res = insertBatch.run(b.keyId, b.batchId ?? null, b.receivedMs, b.points.length, b.bytes);
    if (res.changes === 0) return 'duplicate';
    const batchRow = Number(res.lastInsertRowid);
    for (const p of b.points) {
      const a = p.attrs;
      const alert = a[ATTR.driftAlert];
      const hist = p.kind === 'histogram' || p.kind === 'exponentialHistogram';
      insertPoint.run(
        batchRow, p.metric, p.kind, p.temporality, p.timeMs, p.startMs,
        str(a[ATTR.serviceName]), str(a[ATTR.modelName]), str(a[ATTR.modelVersion]), str(a[ATTR.backend]), str(a[ATTR.deviceClass]),
        str(a[ATTR.phase]), str(a[ATTR.feature]), str(a[ATTR.driftTest]), alert === undefined ? null : alert === true || alert === 'true' ? 1 : 0, str(a[ATTR.errorCode]),
        seriesKey(p.metric, a), JSON.stringify(a),
        hist ? null : p.value, hist ? p.count : null, hist ? (p.sum ?? null) : null, hist ? (p.min ?? null) : null, hist ? (p.max ?? null) : null,
        bucketData(p),
      );
    }
    if (b.forward) insertOutbox.run(b.forward.batchId, b.forward.body, b.receivedMs, b.receivedMs);
    return 'stored';
  });
}
