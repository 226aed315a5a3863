// Many simulated Kiln pages posting to a collector over loopback: valid batches (some sent again
// as if the answer was lost), malformed ones and ones with a bad key. Valid batches are retried on
// network errors, 429 and 503 until answered, as the runtime's exporter does, so a collector
// restart in the middle loses nothing. Used by the load test and by bench-ingest.ts.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BATCH_ID_HEADER } from '../../runtime/telemetry/otlp-schema.ts';
import { malformedBatch, syntheticBatch } from './synthetic-batch.ts';

export interface LoadPlan {
  readonly baseUrl: string;
  readonly clients: number;
  readonly batchesPerClient: number;
  readonly keys: readonly string[];
  /** shares of each kind of batch (the rest are valid) */
  readonly malformedShare: number;
  readonly badKeyShare: number;
  /** share of valid batches sent a second time after their 200 */
  readonly resendShare: number;
  /** called after every answered request (e.g. to restart the collector midway) */
  readonly onAnswer?: (answered: number) => void | Promise<void>;
  /** give up on a batch after this long (a collector that never comes back) */
  readonly giveUpMs?: number;
}

export type BatchKind = 'valid' | 'malformed' | 'bad-key';

export interface SentBatch {
  readonly kind: BatchKind;
  readonly key: string;
  readonly batchId: string;
  readonly runs: number;
  readonly points: number;
  /** the final HTTP status (0: never answered) */
  status: number;
  /** answers to the resend, when one was made */
  resendStatus?: number;
  /** network errors and retryable statuses before the final answer */
  retries: number;
}

export interface LoadResult {
  readonly batches: SentBatch[];
  /** milliseconds from send to answer, for every answered request */
  readonly latenciesMs: number[];
  readonly elapsedMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One POST with node:http (fetch costs the load generator ~5x more CPU than the collector spends). */
function postOnce(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const batches: SentBatch[] = [];
  const latenciesMs: number[] = [];
  let answered = 0;
  const giveUpMs = plan.giveUpMs ?? 30_000;
  const url = new URL(`${plan.baseUrl}/v1/metrics`);
  const agent = new Agent({ keepAlive: true, maxSockets: plan.clients });

  async function send(body: Buffer, gzip: boolean, key: string, batchId: string, b: SentBatch): Promise<number> {
    const started = Date.now();
    let backoff = 20;
    for (;;) {
      const t0 = performance.now();
      let status: number;
      let retryAfter: string | undefined;
      try {
        const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${key}`, [BATCH_ID_HEADER]: batchId, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) };
        ({ status, retryAfter } = await postOnce(url, agent, headers, body));
      } catch {
        status = 0; // refused or reset: the collector is restarting
      }
      if (status !== 0) {
        latenciesMs.push(performance.now() - t0);
        answered++;
        await plan.onAnswer?.(answered);
      }
      if (status !== 0 && status !== 429 && status !== 503) return status;
      b.retries++;
      if (Date.now() - started > giveUpMs) return status;
      await sleep(retryAfter ? Number(retryAfter) * 1000 : backoff * (0.5 + Math.random()));
      backoff = Math.min(1000, backoff * 2);
    }
  }

  async function client(c: number): Promise<void> {
    for (let s = 0; s < plan.batchesPerClient; s++) {
      const r = Math.random();
      const kind: BatchKind = r < plan.malformedShare ? 'malformed' : r < plan.malformedShare + plan.badKeyShare ? 'bad-key' : 'valid';
      const key = kind === 'bad-key' ? `bad-key-${randomUUID()}` : plan.keys[c % plan.keys.length]!;
      const syn = syntheticBatch(c, s, Date.now());
      const json = Buffer.from(JSON.stringify(kind === 'malformed' ? malformedBatch(s) : syn.body));
      const gzip = s % 2 === 0;
      const body = gzip ? gzipSync(json) : json;
      const b: SentBatch = { kind, key, batchId: randomUUID(), runs: kind === 'valid' ? syn.runs : 0, points: kind === 'valid' ? syn.points : 0, status: 0, retries: 0 };
      batches.push(b);
      b.status = await send(body, gzip, key, b.batchId, b);
      if (kind === 'valid' && Math.random() < plan.resendShare) b.resendStatus = await send(body, gzip, key, b.batchId, b);
    }
  }

  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: plan.clients }, (_, c) => client(c)));
  } finally {
    agent.destroy();
  }
  return { batches, latenciesMs, elapsedMs: performance.now() - t0 };
}

export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}
