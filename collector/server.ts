// startCollector: binds the HTTP server, opens the store, starts retention and forwarding, and
// routes requests. Write side: POST /v1/metrics (API keys). Read side: the dashboard (/), its
// JSON (/api/*) and Prometheus (/metrics), open unless a read key is set.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fail } from '../core/errors.ts';
import { bearerToken, keyChecker } from './auth.ts';
import { handleApi } from './dashboard/api.ts';
import { DASHBOARD_HEADERS, dashboardHtml } from './dashboard/page.ts';
import { Forwarder } from './forward/forwarder.ts';
import { corsHeaders, sendPreflight } from './http/cors.ts';
import { hostAllowed, isLoopback, LOOPBACK_HOST_NAMES } from './http/host-check.ts';
import { sendError, sendJson, sendText } from './http/respond.ts';
import { handleIngest, type IngestDeps } from './ingest.ts';
import { resolveOptions, type CollectorOptions } from './options.ts';
import { renderPrometheus } from './prometheus.ts';
import { rateLimiter } from './rate-limit.ts';
import { createBatchWriter } from './store/batch-writer.ts';
import { openDatabase } from './store/database.ts';
import { groupCommit } from './store/group-commit.ts';
import { createRetention, type RetentionResult } from './store/retention.ts';
import { SeriesGate } from './store/series-gate.ts';
import { CollectorStats } from './stats.ts';

export interface Collector {
  /** base URL, e.g. http://127.0.0.1:4318 (OTLP endpoint: url + '/v1/metrics') */
  readonly url: string;
  readonly port: number;
  readonly stats: CollectorStats;
  /** delete what is older than the retention period now (also runs at start and hourly) */
  runRetention(): RetentionResult;
  /** stops listening, lets requests in flight finish, stops forwarding, closes the database */
  close(): Promise<void>;
}

const RETENTION_EVERY_MS = 3_600_000;
const CLOSE_GRACE_MS = 2_000;

export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const o = resolveOptions(options);
  const db = openDatabase(o.dbPath, o.durability, o.busyTimeoutMs);
  const stats = new CollectorStats(o.now());
  const retention = createRetention(db, o.retentionDays);
  const keys = keyChecker(o.apiKeys);
  const gate = new SeriesGate(db, o.seriesLimits);
  const forwarder = o.forwardUrl ? new Forwarder(db, { url: o.forwardUrl, key: o.forwardKey, now: o.now, log: o.log, maxBytes: o.outboxMaxBytes, maxAgeMs: o.outboxMaxAgeMs }, stats) : undefined;
  const ingestDeps: IngestDeps = {
    options: o,
    keys,
    limiter: rateLimiter(o.rateLimitPerSecond),
    gate,
    stats,
    store: groupCommit(db, createBatchWriter(db)),
    onStored: (points, forwardBytes) => {
      stats.pointsStored += points;
      forwarder?.queued(forwardBytes);
    },
  };
  const cors = corsHeaders(o.corsOrigin);
  let inFlight = 0;

  // Compared through SHA-256 digests with timingSafeEqual, like the API keys.
  const readKeys = o.readKey === undefined ? undefined : keyChecker([o.readKey]);
  const readAllowed = (req: IncomingMessage): boolean => readKeys === undefined || readKeys.check(bearerToken(req)) !== undefined;
  /** set once listening on a loopback interface: the Host values accepted (DNS rebinding) */
  let allowedHosts: ReadonlySet<string> | undefined;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (allowedHosts && !hostAllowed(req.headers.host, allowedHosts)) {
      req.resume();
      return sendError(res, 421, `this collector listens on loopback and answers only Host ${[...allowedHosts].join(', ')}`);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://collector');
    } catch {
      req.resume();
      return sendError(res, 400, 'not a valid request target');
    }
    const path = url.pathname;
    if (path === '/v1/metrics') {
      if (req.method === 'OPTIONS') return sendPreflight(res, o.corsOrigin);
      if (req.method !== 'POST') return sendError(res, 405, 'use POST for /v1/metrics', { ...cors, Allow: 'POST, OPTIONS' });
      const started = process.hrtime.bigint();
      const { status, outcome } = await handleIngest(req, res, ingestDeps, cors);
      stats.recordIngest(status, Number(process.hrtime.bigint() - started) / 1e9);
      if (outcome === 'stored') stats.batchesStored++;
      else if (outcome === 'duplicate') stats.batchesDuplicate++;
      return;
    }
    if (path === '/v1/traces' || path === '/v1/logs') {
      if (req.method === 'OPTIONS') return sendPreflight(res, o.corsOrigin);
      req.resume();
      return sendError(res, 404, `this collector receives metrics only (${path} is not served)`, cors);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, `${req.method ?? '?'} is not allowed on ${path.slice(0, 200)}`, { Allow: 'GET' });
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/' || path === '/dashboard') return sendText(res, 200, 'text/html; charset=utf-8', dashboardHtml(), DASHBOARD_HEADERS);
    if (path === '/metrics' || path.startsWith('/api/')) {
      if (!readAllowed(req)) {
        const why = bearerToken(req) !== undefined && keys.check(bearerToken(req)) !== undefined && !keys.open ? 'API keys are write-only; the read side needs the read key' : 'the read side needs the read key: Authorization: Bearer <read key>';
        return sendError(res, 401, why, { 'WWW-Authenticate': 'Bearer' });
      }
      if (path === '/metrics') return sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderPrometheus(db, stats, o.now()));
      if (handleApi(db, path, url.searchParams, res)) return;
    }
    sendError(res, 404, `no such path: ${path.slice(0, 200)}`);
  }

  const server = createServer((req, res) => {
    inFlight++;
    route(req, res)
      .catch((e: unknown) => {
        // A database that is locked by another process, full or failing is a 503 to retry later
        // (the process stays up); anything else is our bug.
        const dbError = typeof (e as { code?: unknown } | null)?.code === 'string' && (e as { code: string }).code.startsWith('SQLITE_');
        o.log(`${dbError ? 'database' : 'internal'} error on ${req.method ?? '?'} ${req.url ?? '?'}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        if (res.headersSent) res.destroy();
        else if (dbError) sendError(res, 503, 'the collector database is busy or failing; retry later', { 'Retry-After': '5' });
        else sendError(res, 500, 'internal collector error');
      })
      .finally(() => inFlight--);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000; // a client trickling a body cannot hold a socket forever

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    db.close();
    const err = e as NodeJS.ErrnoException;
    fail('INVALID_ARGUMENT', err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is already in use` : `cannot listen on ${o.host}:${o.port}: ${err.message}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  if (isLoopback(o.host)) allowedHosts = LOOPBACK_HOST_NAMES;
  else {
    if (keys.open) o.log(`listening on ${o.host} without --api-key: anyone who can reach port ${port} can post telemetry`);
    if (o.readKey === undefined) o.log(`listening on ${o.host} without --read-key: anyone who can reach port ${port} can read the dashboard and /metrics`);
  }

  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = (): void => {
    sweeping = retention
      .sweep(o.now())
      .then((r) => r.series > 0 && gate.reload()) // series without data left no longer count against the caps
      .catch((e: unknown) => o.log(`retention failed: ${e instanceof Error ? e.message : String(e)}`));
  };
  sweep();
  const retentionTimer = setInterval(sweep, RETENTION_EVERY_MS);
  retentionTimer.unref();
  forwarder?.wake(); // what a previous run left in the outbox

  let closing: Promise<void> | undefined;
  const host = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    port,
    stats,
    runRetention: () => {
      const r = retention.all(o.now());
      if (r.series > 0) gate.reload();
      return r;
    },
    close() {
      closing ??= (async () => {
        clearInterval(retentionTimer);
        await sweeping; // a chunked sweep must not touch a closed database
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        await closed;
        clearTimeout(grace);
        while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
        await forwarder?.close();
        db.close();
      })();
      return closing;
    },
  };
}
