// Telemetry the demo produces while offline is queued (across a reload) and reaches the collector after reconnection:
// nothing lost (the collector's run total equals what the page's sessions counted) and nothing
// counted twice (the first delivery's response is cut off after the collector stored it, so the
// exporter retries the same batch; the collector must keep it once). Checked in the collector's
// SQLite database, opened read-only beside the running collector.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { after, before, test } from 'node:test';
import type { TelemetrySnapshot } from '../../runtime/telemetry/telemetry-api.ts';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { openDemoBed, waitReady, type DemoBed } from './helpers/demo-bed.ts';

let bed: DemoBed | undefined;

before(async () => {
  bed = await openDemoBed();
});

after(async () => {
  await bed?.close();
});

interface PointRow {
  temporality: number;
  value: number;
  series: string;
  start_ms: number;
  time_ms: number;
  batch: number;
}

/** Runs in the collector's store: delta points add up, a cumulative stream counts its latest value. */
function storedRuns(dbPath: string): { total: number; duplicates: number; batches: number; batchIds: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT temporality, value, series, start_ms, time_ms, batch FROM points WHERE metric = ?').all(METRIC.runs) as PointRow[];
    const latest = new Map<string, PointRow>();
    const seen = new Set<string>();
    let total = 0;
    let duplicates = 0;
    for (const r of rows) {
      const key = `${r.series}|${r.start_ms}|${r.time_ms}`;
      if (seen.has(key)) duplicates++; // the same data point stored twice
      seen.add(key);
      if (r.temporality === 1) total += r.value;
      else {
        const k = `${r.series}|${r.start_ms}`;
        if (!latest.has(k) || latest.get(k)!.time_ms < r.time_ms) latest.set(k, r);
      }
    }
    for (const r of latest.values()) total += r.value;
    const b = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT batch_id) AS ids FROM batches').get() as { n: number; ids: number };
    return { total, duplicates, batches: b.n, batchIds: b.ids };
  } finally {
    db.close();
  }
}

type Snaps = Record<string, TelemetrySnapshot | undefined>;

test('telemetry produced offline is delivered after reconnecting, nothing lost, nothing counted twice', { timeout: 120_000 }, async () => {
  assert.ok(bed);
  const { page, context } = await bed.open();
  const demo = {
    snapshots: (): Promise<Snaps> => page.evaluate(() => (globalThis as { kilnDemo?: { telemetrySnapshots(): Promise<Snaps> } }).kilnDemo!.telemetrySnapshots()),
    flush: (): Promise<void> => page.evaluate(() => (globalThis as { kilnDemo?: { flushTelemetry(): Promise<void> } }).kilnDemo!.flushTelemetry()),
    simulate: (n: number): Promise<void> => page.evaluate((count) => (globalThis as { kilnDemo?: { tabular: { simulate(n: number): Promise<void> } } }).kilnDemo!.tabular.simulate(count), n),
  };
  const sum = (s: Snaps, f: (x: TelemetrySnapshot) => number): number => Object.values(s).reduce((a, x) => a + (x ? f(x) : 0), 0);

  const first = await demo.snapshots();
  assert.ok(first.tabular?.enabled && first.tabular.export.active, `the tabular session exports telemetry: ${JSON.stringify(first.tabular?.export)}`);

  // Online: some runs, delivered.
  await demo.simulate(10);
  await demo.flush();
  const online = await demo.snapshots();
  assert.ok(sum(online, (s) => s.export.sentBatches) >= 1, 'a batch was delivered while online');

  // Offline: more runs; a flush queues them durably instead of losing them. The reload below is
  // served by the service worker, so it must have precached the app first (going offline before
  // that is a race the test lost once here: the reload failed with ERR_INTERNET_DISCONNECTED; the
  // 60 s bound is only a hang guard).
  await page.waitForFunction(() => document.body.dataset.offlineReady === 'true', undefined, { timeout: 60_000 });
  await context.setOffline(true);
  await demo.simulate(40);
  await demo.flush();
  const offline = await demo.snapshots();
  assert.ok(sum(offline, (s) => s.export.queuedBatches) >= 1, `batches are queued while offline: ${JSON.stringify(Object.values(offline).map((s) => s?.export))}`);
  const firstPageRuns = sum(offline, (s) => s.runs);
  const before = storedRuns(bed.collectorDb);

  // Still offline, the visitor reloads (the service worker serves the app): the queue is durable
  // (IndexedDB), and the new page's sessions produce and queue more.
  await page.reload();
  await waitReady(page);
  await demo.simulate(15);
  await demo.flush();

  // Back online, but the first delivery's answer is lost after the collector stored the batch.
  let cut = 0;
  await context.route(`${bed.collector.url}/v1/metrics`, async (route) => {
    if (cut === 0 && route.request().method() === 'POST') {
      cut++;
      await route.fetch(); // reaches the collector
      await route.abort('connectionreset'); // ...but the page never hears back
      return;
    }
    await route.continue();
  });
  await context.setOffline(false);
  // Polls until the queue drained into the collector; the 60 s bound is only a hang guard.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    await demo.flush().catch(() => undefined);
    const s = await demo.snapshots();
    if (sum(s, (x) => x.export.queuedBatches) === 0 && storedRuns(bed.collectorDb).total >= firstPageRuns + sum(s, (x) => x.runs)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const final = await demo.snapshots();
  const stored = storedRuns(bed.collectorDb);
  assert.equal(cut, 1, 'one delivery had its response cut off');
  assert.equal(sum(final, (s) => s.export.queuedBatches), 0, 'the queue drained');
  assert.ok(stored.total > before.total, 'the offline runs reached the collector');
  assert.equal(stored.total, firstPageRuns + sum(final, (s) => s.runs), 'every run both pages counted is in the collector, once');
  assert.equal(stored.duplicates, 0, 'no data point stored twice');
  assert.equal(stored.batches, stored.batchIds, 'one stored batch per idempotency id');
  await context.close();
});

test('"Shift the inputs" raises drift in the page and on the collector\'s dashboard', { timeout: 120_000 }, async () => {
  assert.ok(bed);
  const { page, context } = await bed.open();
  await page.locator('#shift').fill('2');
  // Two windows of shifted traffic (the page's windows hold 100 samples).
  await page.evaluate(() => (globalThis as { kilnDemo?: { tabular: { simulate(n: number): Promise<void> } } }).kilnDemo!.tabular.simulate(200));
  await page.locator('#drift-gauges .gauge.alert').first().waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('#drift-alert').isVisible(), true, 'the alert is shown in the page');
  assert.match((await page.locator('#drift-alert').textContent()) ?? '', /Drift detected \(Iris\)/);

  await page.evaluate(() => (globalThis as { kilnDemo?: { flushTelemetry(): Promise<void> } }).kilnDemo!.flushTelemetry());
  const model = await page.evaluate(() => (globalThis as { kilnDemo?: { models: Map<string, { loaded: { entry: { name: string } } }> } }).kilnDemo!.models.get('tabular')!.loaded.entry.name);
  // What the collector's dashboard draws its drift panel from.
  const report = (await (await fetch(`${bed.collector.url}/api/drift?model=${encodeURIComponent(model)}`)).json()) as { alerts: { feature: string; model: string | null }[]; features: { feature: string; alerts: number }[] };
  assert.ok(report.alerts.length > 0, `the dashboard lists drift alerts for ${model}: ${JSON.stringify(report).slice(0, 400)}`);
  assert.ok(report.alerts.every((a) => a.model === model));
  assert.ok(report.features.some((f) => f.alerts > 0));
  await context.close();
});
