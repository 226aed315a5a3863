// The demo PWA as a visitor meets it (issue 7), in Debian's Chromium against the production build
// `npm start` serves: install and first visit (service worker active, precache filled), offline
// reload with inference, a model update swapped in on the next load, and a screenshot.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../helpers/paths.ts';
import { drawOnPad, openDemoBed, waitReady, type DemoBed, type DemoPage } from './helpers/demo-bed.ts';

let bed: DemoBed | undefined;
let visit: DemoPage | undefined;

before(async () => {
  bed = await openDemoBed();
});

after(async () => {
  await bed?.close();
});

/** A "7": a top bar and a diagonal, in pad coordinates (0..1). */
const SEVEN: readonly (readonly [number, number])[] = [[0.28, 0.22], [0.72, 0.22], [0.5, 0.5], [0.4, 0.8]];

interface DigitState {
  digit: string;
  probabilities: number[];
  modelVersion: string;
}

async function classifyDrawing(d: DemoPage): Promise<DigitState> {
  await d.page.locator('#pad-clear').click();
  await drawOnPad(d.page, SEVEN);
  const result = await d.page.evaluate(async () => {
    const demo = (globalThis as { kilnDemo?: { digits: { classify(): Promise<DigitState | undefined> } } }).kilnDemo!;
    return demo.digits.classify();
  });
  assert.ok(result, 'the drawing was classified');
  return result;
}

function assertDistribution(p: readonly number[], n: number): void {
  assert.equal(p.length, n);
  assert.ok(p.every((v) => Number.isFinite(v) && v >= 0 && v <= 1), `probabilities in [0, 1]: ${p.join(', ')}`);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'probabilities sum to 1');
}

test('install and first visit: the service worker is active and has precached the app shell and the runtime', { timeout: 120_000 }, async () => {
  assert.ok(bed);
  visit = await bed.open();
  const { page } = visit;
  await page.waitForFunction(() => document.body.dataset.offlineReady === 'true', undefined, { timeout: 30_000 });
  const sw = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const names = await caches.keys();
    const precache = names.find((n) => n.startsWith('workbox-precache'));
    const urls = precache ? (await (await caches.open(precache)).keys()).map((r) => new URL(r.url).pathname) : [];
    return { state: reg.active?.state, precache, urls };
  });
  assert.equal(sw.state, 'activated');
  assert.ok(sw.precache, 'a workbox precache');
  // Every file of the build except the models (kept by the page's own store) must be precached.
  const expected = [...readFileSync(join(bed.siteDir, 'sw.js'), 'utf8').matchAll(/url:"([^"]+)"/g)].map((m) => `/${m[1]}`);
  assert.ok(expected.includes('/index.html') && expected.some((u) => /\/assets\/worker-entry-.*\.js$/.test(u)), `the precache list names the page and the runtime's worker: ${expected.join(', ')}`);
  assert.deepEqual([...new Set(sw.urls.map((u) => u.replace(/\?.*$/, '')))].sort(), [...new Set(expected)].sort());
  // The runtime's lazy parts (model readers, wasm backend, telemetry: chunks loaded on first use) work offline too.
  const scripts = readdirSync(join(bed.siteDir, 'assets')).filter((f) => /\.m?js$/.test(f)).map((f) => `/assets/${f}`);
  for (const part of ['onnx-reader', 'kiln-reader', 'start-wasm', 'session-telemetry']) assert.ok(scripts.some((f) => f.includes(part)), `a ${part} chunk in ${scripts.join(', ')}`);
  assert.deepEqual(scripts.filter((f) => !expected.includes(f)), [], 'every script of the build is precached');
  assert.ok(!sw.urls.some((u) => u.startsWith('/models/')), 'models are not in the precache');

  // Chromium's own installability check (web manifest, icons, service worker with a fetch handler).
  const cdp = await visit.context.newCDPSession(page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
  // Playwright's contexts are incognito profiles, where Chromium never offers installation.
  assert.deepEqual(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'), [], 'the demo is installable');
  await cdp.detach();

  const digit = await classifyDrawing(visit);
  assertDistribution(digit.probabilities, 10);
  // The trained CNN reads the mouse-drawn 7 (stand-in models have random weights: no claim).
  if (bed.realModels) assert.equal(digit.digit, '7', `the CNN's answer for a drawn 7: ${digit.probabilities.map((p) => p.toFixed(2)).join(' ')}`);
  assert.equal(await page.locator('#digit-guess').textContent(), digit.digit);
  assert.match((await page.locator('#digit-backend').textContent()) ?? '', /^(WebGPU|CPU)$/);
  assert.match((await page.locator('#digit-model').textContent()) ?? '', /downloaded/);

  // The same drawing on the CPU backend (the reference for the WebGPU kernels) gives the same answer.
  if ((await page.locator('#digit-backend').textContent()) === 'WebGPU') {
    await page.locator('#backend-switch button[data-backend="cpu"]').click();
    await page.waitForFunction(() => document.getElementById('digit-backend')!.textContent === 'CPU' && document.getElementById('tab-backend')!.textContent === 'CPU');
    const cpu = await page.evaluate(() => (globalThis as { kilnDemo?: { digits: { classify(): Promise<DigitState | undefined> } } }).kilnDemo!.digits.classify());
    assert.ok(cpu);
    cpu.probabilities.forEach((p, i) => assert.ok(Math.abs(p - digit.probabilities[i]!) < 2e-3, `class ${i}: CPU ${p} vs WebGPU ${digit.probabilities[i]}`));
    await page.locator('#backend-switch button[data-backend="webgpu"]').click();
    await page.waitForFunction(() => document.getElementById('digit-backend')!.textContent === 'WebGPU');
  }

  // int4: the other bundle answers too (downloaded and stored on first use).
  await page.locator('#digits .segmented button[data-variant="int4"]').click();
  await page.waitForFunction(() => /int4/.test(document.getElementById('digit-model')!.textContent ?? ''));
  const int4 = await classifyDrawing(visit);
  assertDistribution(int4.probabilities, 10);
  if (bed.realModels) assert.equal(int4.digit, '7', `the int4 CNN's answer for a drawn 7: ${int4.probabilities.map((p) => p.toFixed(2)).join(' ')}`);
  await page.locator('#digits .segmented button[data-variant="int8"]').click();
  await page.waitForFunction(() => /int8/.test(document.getElementById('digit-model')!.textContent ?? ''));

  const storage = await page.evaluate(() => document.body.dataset.storage);
  assert.ok(storage === 'persisted' || storage === 'best-effort', `navigator.storage.persist() was asked (${storage})`);
  assert.deepEqual(visit.errors, []);
});

test('offline: a reload serves the app from the service worker and both models run from storage', { timeout: 120_000 }, async () => {
  assert.ok(bed && visit);
  const { page, context } = visit;
  const online = await classifyDrawing(visit);
  await context.setOffline(true);
  try {
    await page.reload();
    await waitReady(page);
    assert.equal(await page.locator('#chip-network').textContent(), 'Offline');
    assert.match((await page.locator('#digit-model').textContent()) ?? '', /from offline storage/);
    assert.match((await page.locator('#tab-model').textContent()) ?? '', /from offline storage/);
    const offline = await classifyDrawing(visit);
    assertDistribution(offline.probabilities, 10);
    // Same drawing, same model bytes: the same answer as online (same backend in both runs).
    assert.equal(offline.digit, online.digit);
    offline.probabilities.forEach((p, i) => assert.ok(Math.abs(p - online.probabilities[i]!) < 1e-4, `class ${i}: ${p} vs ${online.probabilities[i]}`));
    // the tabular card predicts from its sliders once its model is in use, asynchronously: wait for its bars
    const answered = await page.waitForFunction(() => document.querySelectorAll('#tab-bars li').length >= 2, undefined, { timeout: 60_000 }).then(() => true, () => false);
    assert.ok(answered, 'the tabular model answered offline (its bars, waited for up to 60 s)');
  } finally {
    await context.setOffline(false);
  }
});

test('model update: a new manifest version downloads in the background and is used on the next load, the old one intact until then', { timeout: 120_000 }, async () => {
  assert.ok(bed && visit);
  const { page } = visit;
  const manifestPath = join(bed.siteDir, 'models/manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: { name: string; version: string; url: string; sha256: string; bytes: number; role: string }[] };
  const int8 = manifest.models.find((m) => m.name.includes('int8') && m.role === 'digits')!;
  const int4 = manifest.models.find((m) => m.role === 'digits' && m !== int8)!;
  // "Version 2" of the int8 model: other valid bytes (the int4 bundle) under a new file name.
  const v2bytes = readFileSync(join(bed.siteDir, 'models', int4.url));
  const v2 = { ...int8, version: `${int8.version}-next`, url: `next-${int4.url}`, sha256: createHash('sha256').update(v2bytes).digest('hex'), bytes: v2bytes.length };
  writeFileSync(join(bed.siteDir, 'models', v2.url), v2bytes);
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, models: manifest.models.map((m) => (m === int8 ? v2 : m)) }));

  const readStore = (): Promise<{ pointer: { active?: string; pending?: string }; keys: string[]; update: string | null }> =>
    page.evaluate(async (name) => {
      const demo = (globalThis as { kilnDemo?: { store: { pointer(n: string): { active?: string; pending?: string } } } }).kilnDemo!;
      const cache = await caches.open('kiln-demo-models-v1');
      const keys = (await cache.keys()).map((r) => decodeURIComponent(new URL(r.url).pathname)).filter((p) => p.includes(`/${name}/`));
      return { pointer: demo.store.pointer(name), keys, update: document.getElementById('banner-model')!.hidden ? null : document.getElementById('banner-model')!.textContent };
    }, int8.name);

  await page.reload();
  await waitReady(page);
  const during = await classifyDrawing(visit);
  assert.equal(during.modelVersion, int8.version, 'this load still runs the stored version');
  await page.waitForFunction(() => !document.getElementById('banner-model')!.hidden, undefined, { timeout: 30_000 });
  const staged = await readStore();
  assert.deepEqual(staged.pointer, { active: int8.version, pending: v2.version });
  assert.equal(staged.keys.length, 2, `both versions stored: ${staged.keys.join(', ')}`);
  assert.match(staged.update ?? '', /next time/);
  // The old version still verifies and still runs until the next load.
  const still = await classifyDrawing(visit);
  assert.equal(still.modelVersion, int8.version);

  await page.reload();
  await waitReady(page);
  const after = await classifyDrawing(visit);
  assert.equal(after.modelVersion, v2.version, 'the next load runs the new version');
  const swapped = await readStore();
  assert.deepEqual(swapped.pointer, { active: v2.version });
  assert.deepEqual(swapped.keys.map((k) => k.split('/')[3]), [v2.version], 'the old version was removed after the swap');

  // A broken new version (bytes that do not match the manifest's SHA-256) is never used.
  const v3 = { ...v2, version: `${v2.version}-broken`, url: `broken-${int4.url}` };
  const broken = Buffer.from(v2bytes);
  broken[broken.length >> 1] ^= 0xff;
  writeFileSync(join(bed.siteDir, 'models', v3.url), broken);
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, models: manifest.models.map((m) => (m === int8 ? v3 : m)) }));
  await page.reload();
  await waitReady(page);
  // The background download finishes (and fails its hash check) before the next load.
  await page.evaluate(() => (globalThis as { kilnDemo?: { updatesSettled(): Promise<void> } }).kilnDemo!.updatesSettled());
  await page.reload();
  await waitReady(page);
  const kept = await classifyDrawing(visit);
  assert.equal(kept.modelVersion, v2.version, 'a download that fails its SHA-256 check is never swapped in');
  assert.deepEqual((await readStore()).pointer, { active: v2.version });
  writeFileSync(manifestPath, JSON.stringify(manifest));
});

test('app update: a new build waits until the visitor accepts "a new version is ready", then takes over', { timeout: 150_000 }, async () => {
  assert.ok(bed && visit);
  const { page } = visit;
  const swPath = join(bed.siteDir, 'sw.js');
  const original = readFileSync(swPath, 'utf8');
  const scriptUrl = (): Promise<string | undefined> => page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
  try {
    // A new deployment: the service worker's bytes change (as any rebuild with changed files does).
    writeFileSync(swPath, `${original}\n// build 2\n`);
    await page.reload();
    await waitReady(page);
    await page.locator('#banner-app').waitFor({ state: 'visible', timeout: 30_000 });
    const waiting = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting?.state);
    assert.equal(waiting, 'installed', 'the new worker waits instead of taking over by itself');
    assert.ok(await scriptUrl());
    // A hang guard, not a speed check: under a full test run (load 10 on 2 cores) the reload once came
    // later than 30 s after the click (cause not found; the new worker may wait for the old one's
    // in-flight model fetches before it activates).
    await Promise.all([page.waitForEvent('load', { timeout: 120_000 }), page.locator('#banner-app-reload').click()]);
    await waitReady(page);
    const after = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return { waiting: reg?.waiting ?? null, banner: document.getElementById('banner-app')!.hidden };
    });
    assert.deepEqual(after, { waiting: null, banner: true }, 'after Reload the new worker controls the page');
  } finally {
    writeFileSync(swPath, original);
  }
});

test('a full disk: the models still run, and the page says how much space keeping them offline needs', { timeout: 60_000 }, async () => {
  assert.ok(bed);
  const context = await bed.browser.newContext();
  // The browser reports 100 bytes free: every model is larger.
  await context.addInitScript({ content: 'navigator.storage.estimate = async () => ({ quota: 10_000_000, usage: 10_000_000 - 100 });' });
  const full = await bed.open(context);
  try {
    const banner = full.page.locator('#banner-error');
    assert.equal(await banner.isVisible(), true);
    assert.match((await banner.textContent()) ?? '', /Not enough storage to keep .+ offline: it needs \d+(\.\d)? (KB|MB|B) and 100 B is free/);
    assert.match((await full.page.locator('#digit-model').textContent()) ?? '', /not stored offline/);
    const digit = await classifyDrawing(full);
    assertDistribution(digit.probabilities, 10);
    const stored = await full.page.evaluate(async () => (await (await caches.open('kiln-demo-models-v1')).keys()).length);
    assert.equal(stored, 0, 'nothing half-written was stored');
  } finally {
    await context.close();
  }
});

test('screenshot of the demo (test-results/demo.png)', { timeout: 120_000 }, async () => {
  assert.ok(bed);
  // A first visit in a fresh browser, as a newcomer sees it.
  const fresh = await bed.open();
  const { page } = fresh;
  await classifyDrawing(fresh);
  await page.locator('#shift').fill('2');
  await page.locator('#traffic-on').check();
  // Enough simulated traffic to close a few drift windows, so the gauges show something.
  await page.waitForFunction(() => document.querySelectorAll('#drift-gauges .gauge').length > 0, undefined, { timeout: 20_000 }).catch(() => undefined);
  await page.locator('#traffic-on').uncheck();
  mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(repoRoot, 'test-results/demo.png'), png);
  if (process.env.KILN_UPDATE_DEMO_SCREENSHOT === '1') writeFileSync(join(repoRoot, 'docs/demo.png'), png);
  assert.ok(png.length > 10_000, 'a non-empty screenshot');
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();
});
