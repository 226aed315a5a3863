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
import { BATCH_ID_HEADER, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import type * as Kiln from '../../runtime/index.ts';

interface Got {
  readonly id: string;
  readonly json: { resourceMetrics: { scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { asInt: string }[] } }[] }[] }[] };
}

/** An OTLP receiver with browser CORS; `listen(port)` brings it (back) up on a fixed port. */
function receiver(): { got: Got[]; readonly up: boolean; listen(port?: number): Promise<number>; stop(): Promise<void> } {
  const got: Got[] = [];
  let server: Server | undefined;
  const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': `content-type, content-encoding, authorization, ${BATCH_ID_HEADER}`, 'Access-Control-Expose-Headers': 'Retry-After' };
  return {
    got,
    get up() {
      return server?.listening === true;
    },
    async listen(port = 0) {
      server = createServer((req, res) => {
        if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          got.push({ id: String(req.headers[BATCH_ID_HEADER.toLowerCase()]), json: JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as Got['json'] });
          res.writeHead(200, cors).end('{}');
        });
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      server?.closeAllConnections();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}

let bed: DeliveryBed | undefined;
const collector = receiver();
let port = 0;

before(async () => {
  bed = await openDeliveryBed();
  port = await collector.listen();
  await collector.stop(); // the collector starts down: the page is "offline" for telemetry
});

after(async () => {
  await collector.stop();
  await bed?.close();
});

type KilnGlobal = { kiln: typeof Kiln };

test('offline batches wait in IndexedDB and are delivered by the next page load; alerts reach the page', { timeout: 120_000 }, async () => {
  const { page, errors } = await bed!.open('/pages/script-tag.html');
  const endpoint = `http://127.0.0.1:${port}/v1/metrics`;
  const first = await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    // A reference from 200 samples of x ~ N(0, 1) per column (what buildDriftReference would give).
    const rows = (n: number, shift: number): Float32Array => Float32Array.from({ length: n * 3 }, () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()) + shift);
    const edges = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816];
    const feature = (index: number) => ({ name: `x[${index}]`, type: 'numeric' as const, source: { kind: 'column' as const, tensor: 'x', index }, edges, counts: new Array(10).fill(100), count: 1000, mean: 0, std: 1, min: -3.5, max: 3.5 });
    const driftReference = { version: 1 as const, inputs: [0, 1, 2].map(feature), outputs: [], samples: 1000, origin: 'test' };
    const res = await fetch('/models/square.onnx');
    const model = new Uint8Array(await res.arrayBuffer());
    const alerts: string[][] = [];
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint, apiKey: 'k', driftReference, drift: { windowSize: 50, maxOverhead: 1 } }, onDriftAlert: (a) => alerts.push([...a.features]) });
    const events: number[] = [];
    session.telemetry.addEventListener('driftalert', (e) => events.push((e as CustomEvent<{ window: number }>).detail.window));
    for (let i = 0; i < 5; i++) await session.run({ x: new kiln.Tensor('float32', rows(10, 0), [10, 3]) });
    for (let i = 0; i < 10; i++) await session.run({ x: new kiln.Tensor('float32', rows(10, 3), [10, 3]) });
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
    return { flushed, runs: snap.runs, p50: snap.latency.total?.p50 ?? -1, lastError: snap.export.lastError ?? '', alerts, events, ids: stored.map((b) => b.id) };
  }, endpoint);
  assert.equal(first.runs, 15);
  assert.ok(first.p50 > 0);
  assert.equal(first.flushed.sent, 0);
  assert.ok(first.flushed.queued >= 1, JSON.stringify(first.flushed));
  assert.match(first.lastError, /network/);
  assert.ok(first.alerts.length >= 1 && first.alerts[0]!.length === 3, JSON.stringify(first.alerts));
  assert.equal(first.events.length, first.alerts.length, 'the page got the worker\'s driftalert events');
  assert.ok(first.ids.length >= 1);
  assert.equal(collector.got.length, 0);

  // The collector is back; the user comes back to the page: a new session delivers the queue.
  await collector.listen(port);
  await page.reload();
  const second = await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
    for (let i = 0; i < 50; i++) {
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
  const runs = collector.got.flatMap((g) => g.json.resourceMetrics[0]!.scopeMetrics[0]!.metrics).filter((m) => m.name === METRIC.runs).reduce((n, m) => n + Number(m.sum!.dataPoints[0]!.asInt), 0);
  assert.equal(runs, 15, 'every run of the offline page counted once');
  assert.deepEqual(errors, []);
});

test('a page closed without release(): the draft batch of its worker session is delivered by the next page', { timeout: 60_000 }, async () => {
  if (!collector.up) await collector.listen(port); // whatever the previous test left
  const { page } = await bed!.open('/pages/script-tag.html');
  const endpoint = `http://127.0.0.1:${port}/v1/metrics`;
  const before = collector.got.length;
  await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    const session = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
    for (let i = 0; i < 7; i++) await session.run({ x: new kiln.Tensor('float32', Float32Array.from({ length: 6 }, () => Math.random()), [2, 3]) });
    (globalThis as { keep?: unknown }).keep = session; // not released: the page just goes away
    await new Promise((r) => setTimeout(r, 2500)); // one draft checkpoint (every 2 s)
  }, endpoint);
  await page.goto('about:blank');
  // The user comes back later: that page's session sends the dead session's draft once it is stale.
  await page.goto(`${bed!.server.url}/pages/script-tag.html`);
  await page.evaluate(async (endpoint) => {
    const { kiln } = globalThis as typeof globalThis & KilnGlobal;
    const model = new Uint8Array(await (await fetch('/models/square.onnx')).arrayBuffer());
    (globalThis as { keep?: unknown }).keep = await kiln.InferenceSession.create(model, { executionProviders: ['cpu'], telemetry: { endpoint } });
  }, endpoint);
  for (let i = 0; i < 150 && collector.got.length === before; i++) await new Promise((r) => setTimeout(r, 100));
  const runs = collector.got.slice(before).flatMap((g) => g.json.resourceMetrics[0]!.scopeMetrics[0]!.metrics).filter((m) => m.name === METRIC.runs).reduce((n, m) => n + Number(m.sum!.dataPoints[0]!.asInt), 0);
  assert.equal(runs, 7);
});
