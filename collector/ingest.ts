// POST /v1/metrics: auth -> rate limit -> content type -> size -> gzip -> JSON -> schema ->
// dedup + store (one transaction) -> 200. Each refusal names its cause; only 429 and 503 are
// worth retrying, and they say when (Retry-After).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BATCH_ID_HEADER } from '../runtime/telemetry/otlp-schema.ts';
import { bearerToken, type KeyCheck } from './auth.ts';
import { BodyError, decodeBody, readBody } from './http/read-body.ts';
import { sendError, sendJson } from './http/respond.ts';
import type { ResolvedOptions } from './options.ts';
import { OtlpFieldError } from './otlp/json-fields.ts';
import { parseMetricsRequest } from './otlp/parse-metrics.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { IncomingBatch, StoreOutcome } from './store/batch-writer.ts';
import type { SeriesGate } from './store/series-gate.ts';
import { admitPoints, exportResponse } from './admission.ts';
import type { CollectorStats } from './stats.ts';

const BATCH_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const BATCH_ID = BATCH_ID_HEADER.toLowerCase();

export interface IngestDeps {
  readonly options: ResolvedOptions;
  readonly keys: KeyCheck;
  readonly limiter: RateLimiter;
  /** caps on distinct series */
  readonly gate: SeriesGate;
  readonly stats: CollectorStats;
  readonly store: (batch: IncomingBatch) => Promise<StoreOutcome>;
  /** after a batch is stored (wakes the forwarder); forwardBytes: its body queued in the outbox */
  readonly onStored: (points: number, forwardBytes: number) => void;
}

export interface IngestResult {
  readonly status: number;
  /** set when the batch was accepted (200) */
  readonly outcome?: StoreOutcome;
}

/** Handles one request; always answers, and resolves with the status it answered. */
export async function handleIngest(req: IncomingMessage, res: ServerResponse, deps: IngestDeps, extraHeaders: Record<string, string>): Promise<IngestResult> {
  const { options } = deps;
  const refuse = (status: number, message: string, headers: Record<string, string> = {}): IngestResult => {
    sendError(res, status, message, { ...extraHeaders, ...headers });
    return { status };
  };
  const keyId = deps.keys.check(bearerToken(req));
  if (keyId === undefined) {
    req.resume(); // discard the body; the answer does not depend on it
    return refuse(401, req.headers.authorization ? 'the API key is not accepted' : 'an API key is required: Authorization: Bearer <key>', { 'WWW-Authenticate': 'Bearer' });
  }
  const wait = deps.limiter.take(deps.keys.open ? `ip:${req.socket.remoteAddress ?? ''}` : keyId, options.now());
  if (wait > 0) {
    req.resume();
    return refuse(429, `rate limit of ${options.rateLimitPerSecond} batches/s exceeded; retry later`, { 'Retry-After': String(Math.max(1, Math.ceil(wait))) });
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    req.resume();
    const hint = contentType === 'application/x-protobuf' ? 'OTLP protobuf bodies are not supported' : `Content-Type '${contentType || '(none)'}' is not supported`;
    return refuse(415, `${hint}; send OTLP JSON with Content-Type: application/json`);
  }
  const batchIdHeader = req.headers[BATCH_ID];
  const batchId = typeof batchIdHeader === 'string' ? batchIdHeader : undefined;
  if (batchId !== undefined && !BATCH_ID_PATTERN.test(batchId)) {
    req.resume();
    return refuse(400, `header ${BATCH_ID_HEADER} must be 1 to 128 visible ASCII characters`);
  }

  let body: unknown;
  let raw: Buffer;
  let decoded: Buffer;
  try {
    raw = await readBody(req, options.maxBodyBytes);
    decoded = await decodeBody(raw, req.headers['content-encoding'], options.maxDecodedBytes);
    try {
      body = JSON.parse(decoded.toString('utf8'));
    } catch (e) {
      return refuse(400, `the body is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  } catch (e) {
    if (e instanceof BodyError) return refuse(e.status, e.message, e.status === 413 ? { Connection: 'close' } : {});
    throw e;
  }

  let parsed;
  try {
    parsed = parseMetricsRequest(body);
  } catch (e) {
    if (e instanceof OtlpFieldError) return refuse(400, `invalid OTLP metrics: ${e.message}`);
    throw e;
  }
  const admission = admitPoints(parsed, options.now(), options.retentionDays * 86_400_000, deps.gate);
  const points = admission.points;

  // Forwarded as gzip: the bytes as received when they were gzip already.
  const forward = options.forwardUrl ? { body: decoded === raw ? gzipSync(raw) : raw, batchId: batchId ?? randomUUID() } : undefined;
  let outcome: StoreOutcome;
  try {
    outcome = await deps.store({ keyId, batchId, receivedMs: options.now(), bytes: raw.length, points, ...(forward ? { forward } : {}) });
  } catch (e) {
    // The disk is full or the database is locked: nothing was stored, so the client should retry.
    options.log(`storing a batch failed: ${e instanceof Error ? e.message : String(e)}`);
    return refuse(503, 'the collector could not store the batch; retry later', { 'Retry-After': '5' });
  }
  if (outcome === 'stored') {
    // Counted once per stored batch: a retried duplicate refuses nothing new.
    deps.stats.pointsRefusedTime += admission.refusedTime;
    deps.stats.pointsRefusedSeries += admission.refusedSeries;
    deps.onStored(points.length, forward?.body.length ?? 0);
  }
  sendJson(res, 200, outcome === 'stored' ? exportResponse(admission) : {}, { ...extraHeaders, 'Kiln-Batch': outcome });
  return { status: 200, outcome };
}
