// Telemetry in Chromium through the script-tag build, the session in its worker: while the
// collector is down, flushed batches wait in IndexedDB; after a reload, a new session with the same
// endpoint delivers them (gzip OTLP JSON, the idempotency ids they were made with). Drift alerts
// from the worker arrive in the page as events. No real collector: a small CORS-enabled receiver.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { openDeliveryBed, type DeliveryBed } from './helpers/delivery-bed.ts';
import { testRng, type Rng } from '../helpers/random.ts';
import { BATCH_ID_HEADER, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type * as Kiln from '../../runtime/index.ts';

interface Got {
  readonly id: string;
  readonly json: { resourceMetrics: { scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { asInt: string }[] } }[] }[] }[] };
}

/**
 * An OTLP receiver with browser CORS on a port of its own for the whole file. "Down" is simulated
 * by dropping every connection (the browser sees a network error, as when nothing listens), never
 * by closing and listening again on the same port, which another process may have taken meanwhile.
 */
function receiver(): { got: Got[]; down: boolean; listen(): Promise<number>; stop(): Promise<void> } {
  const got: Got[] = [];
  const server: Server = createServer();
  const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': `content-type, content-encoding, authorization, ${BATCH_ID_HEADER}`, 'Access-Control-Expose-Headers': 'Retry-After' };
  const state = {
    got,
    down: false,
    async listen() {
      server.on('connection', (socket) => {
        if (state.down) socket.destroy();
      });
      server.on('request', (req, res) => {
        if (state.down) return void req.socket.destroy(); // a kept-alive connection from before
        if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          got.push({ id: String(req.headers[BATCH_ID_HEADER.toLowerCase()]), json: JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as Got['json'] });
          res.writeHead(200, cors).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
    },
  };
  return state;
}

/**
 * The batches as the collector stores them: delivery is at least once (a send whose answer was lost,
 * a stale draft two sessions pick up at once), and the collector keeps one row per batch id
 * (collector/store/database.ts, batches_dedup). A repeated id must carry the same body, or the
 * dedup would lose data.
 */
function stored(got: readonly Got[]): Got['json'][] {
  const byId = new Map<string, Got['json']>();
  for (const g of got) {
    const first = byId.get(g.id);
    if (first === undefined) byId.set(g.id, g.json);
    else assert.deepEqual(g.json, first, `batch ${g.id} delivered twice with different bodies`);
  }
  return [...byId.values()];
}

/** Sum of the kiln.runs data points in OTLP JSON bodies. */
const runsIn = (bodies: readonly Got['json'][]): number =>
  bodies.flatMap((j) => j.resourceMetrics[0]!.scopeMetrics[0]!.metrics).filter((m) => m.name === METRIC.runs).reduce((n, m) => n + Number(m.sum!.dataPoints[0]!.asInt), 0);

let bed: DeliveryBed | undefined;
const collector = receiver();
let port = 0;

before(async () => {
  bed = await openDeliveryBed();
  port = await collector.listen();
  collector.down = true; // the collector starts down: the page is "offline" for telemetry
});

after(async () => {
  await collector.stop();
  await bed?.close();
});

// The drift reference: 3 features, 10 bins at the deciles of N(0, 1), 100 reference samples each.
const EDGES = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816];
const LOW = -3.5;
const HIGH = 3.5;
const WINDOW = 50;

/**
 * Reference-like rows whose window counts equal the reference's proportions exactly (5 per bin and
 * feature in a 50-row window, values placed at random inside their bins and shuffled): the
 * chi-square statistic is 0, so this window can never alert. Random rows from N(0, 1) instead
 * false-alarm on ~1% of windows, naming one feature: that is what made this test fail by chance.
 */
function referenceLikeRows(rng: Rng): number[] {
  const bounds = [LOW, ...EDGES, HIGH];
  const columns = [0, 1, 2].map(() => {
    const col = Array.from({ length: WINDOW }, (_, i) => {
      const bin = i % 10;
      // kept off the edges, so float32 rounding never moves a value into the next bin
      return bounds[bin]! + (0.05 + 0.9 * rng.uniform()) * (bounds[bin + 1]! - bounds[bin]!);
    });
    for (let i = col.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [col[i], col[j]] = [col[j]!, col[i]!];
    }
    return col;
  });
  return Array.from({ length: WINDOW * 3 }, (_, k) => columns[k % 3]![Math.floor(k / 3)]!);
}

/** Rows far past the top decile on every feature: each window of them alerts on all three (p-value ~1e-40). */
const shiftedRows = (rng: Rng, n: number): number[] => rng.floats(n * 3, 2, HIGH);

type KilnGlobal = { kiln: typeof Kiln };

test('offline batches wait in IndexedDB and are delivered by the next page load; alerts reach the page', { timeout: 120_000 }, async () => {
  const { page, errors } = await bed!.open('/pages/script-tag.html');
  const endpoint = `http://127.0.0.1:${port}/v1/metrics`;
  const rng = testRng(import.meta.url, 'offline batches');
  // Window 1 (runs 1-5): reference-like; windows 2 and 3 (runs 6-15): shifted.
  const data = { reference: referenceLikeRows(rng), shifted: shiftedRows(rng, 2 * WINDOW), edges: EDGES, low: LOW, high: HIGH, window: WINDOW };
  const first = await page.evaluate(async ({ endpoint, data }) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const rows = (all: number[], run: number): Float32Array => Float32Array.from(all.slice(run * 30, (run + 1) * 30)); // 10 rows of 3
    const feature = (index: number) => ({ name: `x[${index}]`, type: 'numeric' as const, source: { kind: 'column' as const, tensor: 'x', index }, edges: data.edges, counts: new Array(10).fill(100), count: 1000, mean: 0, std: 1, min: data.low, max: data.high });
    const driftReference = { version: 1 as const, inputs: [0, 1, 2].map(feature), outputs: [], samples: 1000, origin: 'test' };
    const res = await fetch('/models/square.onnx');
    const model = new Uint8Array(await res.arrayBuffer());
    const alerts: string[][] = [];
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint, apiKey: 'k', driftReference, drift: { windowSize: data.window, maxOverhead: 1 } }, onDriftAlert: (a) => alerts.push([...a.features]) });
    const events: number[] = [];
    session.telemetry.addEventListener('driftalert', (e) => events.push((e as CustomEvent<{ window: number }>).detail.window));
    for (let i = 0; i < 5; i++) await session.run({ x: new kiln.Tensor('float32', rows(data.reference, i), [10, 3]) });
    for (let i = 0; i < 10; i++) await session.run({ x: new kiln.Tensor('float32', rows(data.shifted, i), [10, 3]) });
    const flushed = await session.telemetry.flush();
    const snap = await session.telemetry.snapshot();
    await session.release();
    // What the worker left in IndexedDB (same origin as the page).
    const stored = await new Promise<{ id: string }[]>((resolve, reject) => {
      const open = indexedDB.open('kiln-telemetry');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const all = open.result.transaction('batches').objectStore('batches').getAll();
        all.onsuccess = () => resolve(all.result as { id: string }[]);
        all.onerror = () => reject(all.error);
      };
    });
    return { flushed, runs: snap.runs, windows: snap.drift?.windows ?? -1, p50: snap.latency.total?.p50 ?? -1, lastError: snap.export.lastError ?? '', alerts, events, ids: stored.map((b) => b.id) };
  }, { endpoint, data });
  assert.equal(first.runs, 15);
  assert.ok(first.p50 > 0);
  assert.equal(first.flushed.sent, 0);
  assert.ok(first.flushed.queued >= 1, JSON.stringify(first.flushed));
  assert.match(first.lastError, /network/);
  assert.equal(first.windows, 3);
  // Deterministic by construction (see referenceLikeRows): no alert on window 1, all three features on windows 2 and 3.
  assert.deepEqual(first.alerts.map((a) => [...a].sort()), [['x[0]', 'x[1]', 'x[2]'], ['x[0]', 'x[1]', 'x[2]']]);
  assert.deepEqual(first.events, [2, 3], 'the page got the worker\'s driftalert events, for the shifted windows only');
  assert.ok(first.ids.length >= 1);
  assert.equal(collector.got.length, 0);

  // The collector is back; the user comes back to the page: a new session delivers the queue.
  collector.down = false;
  await page.reload();
  const second = await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
    // Polls until the queue is empty; the 60 s bound is only a hang guard.
    for (const deadline = performance.now() + 60_000; performance.now() < deadline; ) {
      if ((await session.telemetry.snapshot()).export.queuedBatches === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const snap = await session.telemetry.snapshot();
    await session.release();
    return { queued: snap.export.queuedBatches, sent: snap.export.sentBatches };
  }, endpoint);
  assert.equal(second.queued, 0);
  assert.equal(second.sent, first.ids.length);
  assert.deepEqual(collector.got.slice(0, first.ids.length).map((g) => g.id).sort(), [...first.ids].sort(), 'the stored batches arrived with their own ids');
  assert.equal(runsIn(stored(collector.got)), 15, 'every run of the offline page counted once');
  assert.deepEqual(errors, []);
});

test('a page closed without release(): the draft batch of its worker session is delivered by the next page', { timeout: 60_000 }, async () => {
  collector.down = false; // whatever the previous test left
  const { page } = await bed!.open('/pages/script-tag.html');
  const endpoint = `http://127.0.0.1:${port}/v1/metrics`;
  const before = collector.got.length;
  const rng = testRng(import.meta.url, 'draft batch');
  const inputs = Array.from({ length: 7 }, () => rng.floats(6, 0, 1));
  const drafted = await page.evaluate(async ({ endpoint, inputs, runsMetric }) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
    for (const x of inputs) await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    (globalThis as { keep?: unknown }).keep = session; // not released: the page just goes away
    // Wait for the draft checkpoint (every 2 s) to hold all 7 runs in IndexedDB; the bound is a hang guard.
    const draftRuns = async (): Promise<number> => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('kiln-telemetry');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => resolve(open.result);
      });
      try {
        if (!db.objectStoreNames.contains('batches')) return 0;
        const all = await new Promise<{ body: string }[]>((resolve, reject) => {
          const req = db.transaction('batches').objectStore('batches').getAll();
          req.onsuccess = () => resolve(req.result as { body: string }[]);
          req.onerror = () => reject(req.error);
        });
        type Body = { resourceMetrics: { scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { asInt: string }[] } }[] }[] }[] };
        return all.flatMap((b) => (JSON.parse(b.body) as Body).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))).filter((m) => m.name === runsMetric).reduce((n, m) => n + Number(m.sum!.dataPoints[0]!.asInt), 0);
      } finally {
        db.close();
      }
    };
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      if ((await draftRuns()) === 7) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }, { endpoint, inputs, runsMetric: METRIC.runs });
  assert.ok(drafted, 'the draft with 7 runs reached IndexedDB within 30 s');
  await page.goto('about:blank');
  // The user comes back later: that page's session sends the dead session's draft once it is stale.
  await page.goto(`${bed!.server.url}/pages/script-tag.html`);
  await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    (globalThis as { keep?: unknown }).keep = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
  }, endpoint);
  // Polls for the delivery; the 30 s bound is a hang guard (the draft goes stale after 6 s).
  const deadline = Date.now() + 30_000;
  while (runsIn(stored(collector.got.slice(before))) < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(runsIn(stored(collector.got.slice(before))), 7);
});
