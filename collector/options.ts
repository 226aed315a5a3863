// What `startCollector` accepts, the defaults, and the checks that turn bad values into typed
// errors before anything listens. `kiln collect` maps its flags onto these one to one.
import { fail } from '../core/errors.ts';
import { DEFAULT_SERIES_LIMITS, type SeriesLimits } from './store/series-gate.ts';

export interface CollectorOptions {
  /** TCP port; 0 picks a free one. Default 4318 (the OTLP/HTTP port). */
  readonly port?: number;
  /** Interface to bind. Default 127.0.0.1: the read side is open unless `readKey` is set. */
  readonly host?: string;
  /** SQLite file; created when missing. Default ':memory:' (nothing survives close). */
  readonly dbPath?: string;
  /** Bearer keys allowed to POST telemetry (write-only). Empty: anyone who can reach the port may post. */
  readonly apiKeys?: readonly string[];
  /** Bearer key required by the read side (dashboard, /api/*, /metrics). Unset: read side open. */
  readonly readKey?: string;
  /** Delete data points (by their time) and dedup records (by arrival) older than this. Default 30. */
  readonly retentionDays?: number;
  /** Upstream OTLP/HTTP metrics URL (e.g. http://otel:4318/v1/metrics) every accepted batch is re-posted to. */
  readonly forwardUrl?: string;
  /** Bearer key sent upstream with forwarded batches. */
  readonly forwardKey?: string;
  /** Forwarding outbox cap in bytes (gzip bodies); the oldest batches are dropped beyond it. Default 256 MiB. */
  readonly outboxMaxBytes?: number;
  /** Batches waiting longer than this many hours are dropped unsent. Default 72. */
  readonly outboxMaxAgeHours?: number;
  /** How long a write waits for a lock held by another connection before answering 503 (ms). Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Caps on distinct series, model names and label values (store/series-gate.ts has the defaults). */
  readonly seriesLimits?: Partial<SeriesLimits>;
  /** Largest request body on the wire, in bytes (413 above). Default 4 MiB. Decoded gzip may be 10x that. */
  readonly maxBodyBytes?: number;
  /** Batches per second allowed per API key (per client address when no keys are set); 0 = unlimited. Default 50. */
  readonly rateLimitPerSecond?: number;
  /** CORS Access-Control-Allow-Origin value. Default '*' (bearer keys, no cookies, so any origin is safe). */
  readonly corsOrigin?: string;
  /** 'full' (default) fsyncs every batch before answering 200; 'normal' survives a process crash but not a power cut. */
  readonly durability?: 'full' | 'normal';
  /** Injectable clock (tests of retention and rate limits). */
  readonly now?: () => number;
  /** Where the collector logs one-line notices (warnings, forwarding failures). Default console.warn. */
  readonly log?: (line: string) => void;
}

export interface ResolvedOptions {
  readonly port: number;
  readonly host: string;
  readonly dbPath: string;
  readonly apiKeys: readonly string[];
  readonly readKey: string | undefined;
  readonly retentionDays: number;
  readonly forwardUrl: URL | undefined;
  readonly forwardKey: string | undefined;
  readonly outboxMaxBytes: number;
  readonly outboxMaxAgeMs: number;
  readonly busyTimeoutMs: number;
  readonly seriesLimits: SeriesLimits;
  readonly maxBodyBytes: number;
  readonly maxDecodedBytes: number;
  readonly rateLimitPerSecond: number;
  readonly corsOrigin: string;
  readonly durability: 'full' | 'normal';
  readonly now: () => number;
  readonly log: (line: string) => void;
}

export const DEFAULT_PORT = 4318;
const KEY_PATTERN = /^[\x21-\x7e]{8,256}$/; // visible ASCII: a key must fit in an Authorization header

function positiveInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) fail('INVALID_ARGUMENT', `collector option ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function checkKey(name: string, key: string): string {
  if (!KEY_PATTERN.test(key)) fail('INVALID_ARGUMENT', `collector option ${name}: a key must be 8 to 256 visible ASCII characters (no spaces)`);
  return key;
}

export function resolveOptions(o: CollectorOptions): ResolvedOptions {
  const apiKeys = (o.apiKeys ?? []).map((k) => checkKey('apiKeys', k));
  const readKey = o.readKey === undefined ? undefined : checkKey('readKey', o.readKey);
  if (readKey !== undefined && apiKeys.includes(readKey)) fail('INVALID_ARGUMENT', 'collector option readKey must differ from every API key (API keys are write-only)');
  let forwardUrl: URL | undefined;
  if (o.forwardUrl !== undefined) {
    try {
      forwardUrl = new URL(o.forwardUrl);
    } catch {
      fail('INVALID_ARGUMENT', `collector option forwardUrl is not a URL: ${o.forwardUrl}`);
    }
    if (forwardUrl.protocol !== 'http:' && forwardUrl.protocol !== 'https:') fail('INVALID_ARGUMENT', `collector option forwardUrl must be http(s), got ${forwardUrl.protocol}`);
  }
  const retentionDays = o.retentionDays ?? 30;
  if (!(Number.isFinite(retentionDays) && retentionDays > 0)) fail('INVALID_ARGUMENT', `collector option retentionDays must be a positive number, got ${String(retentionDays)}`);
  const rate = o.rateLimitPerSecond ?? 50;
  if (!(Number.isFinite(rate) && rate >= 0)) fail('INVALID_ARGUMENT', `collector option rateLimitPerSecond must be >= 0, got ${String(rate)}`);
  const maxBodyBytes = positiveInt('maxBodyBytes', o.maxBodyBytes ?? 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const outboxMaxAgeHours = o.outboxMaxAgeHours ?? 72;
  if (!(Number.isFinite(outboxMaxAgeHours) && outboxMaxAgeHours > 0)) fail('INVALID_ARGUMENT', `collector option outboxMaxAgeHours must be a positive number, got ${String(outboxMaxAgeHours)}`);
  const durability = o.durability ?? 'full';
  if (durability !== 'full' && durability !== 'normal') fail('INVALID_ARGUMENT', `collector option durability must be 'full' or 'normal', got ${String(durability)}`);
  return {
    port: positiveInt('port', o.port ?? DEFAULT_PORT, 0, 65535),
    host: o.host ?? '127.0.0.1',
    dbPath: o.dbPath ?? ':memory:',
    apiKeys,
    readKey,
    retentionDays,
    forwardUrl,
    forwardKey: o.forwardKey === undefined ? undefined : checkKey('forwardKey', o.forwardKey),
    outboxMaxBytes: positiveInt('outboxMaxBytes', o.outboxMaxBytes ?? 256 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    outboxMaxAgeMs: outboxMaxAgeHours * 3_600_000,
    busyTimeoutMs: positiveInt('busyTimeoutMs', o.busyTimeoutMs ?? 5000, 0, 600_000),
    seriesLimits: {
      seriesTotal: positiveInt('seriesLimits.seriesTotal', o.seriesLimits?.seriesTotal ?? DEFAULT_SERIES_LIMITS.seriesTotal, 1, 10_000_000),
      seriesPerModel: positiveInt('seriesLimits.seriesPerModel', o.seriesLimits?.seriesPerModel ?? DEFAULT_SERIES_LIMITS.seriesPerModel, 1, 10_000_000),
      modelNames: positiveInt('seriesLimits.modelNames', o.seriesLimits?.modelNames ?? DEFAULT_SERIES_LIMITS.modelNames, 1, 10_000_000),
      labelValues: positiveInt('seriesLimits.labelValues', o.seriesLimits?.labelValues ?? DEFAULT_SERIES_LIMITS.labelValues, 1, 10_000_000),
    },
    maxBodyBytes,
    maxDecodedBytes: maxBodyBytes * 10,
    rateLimitPerSecond: rate,
    corsOrigin: o.corsOrigin ?? '*',
    durability,
    now: o.now ?? Date.now,
    log: o.log ?? ((line) => console.warn(`kiln collect: ${line}`)),
  };
}
