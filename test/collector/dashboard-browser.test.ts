// The dashboard in Chromium: it draws latency lines and per-feature drift from what was posted,
// highlights the alerting feature, and with a read key takes it from the URL fragment.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { launchChromium } from '../../scripts/browser/chromium.ts';
import type { Collector } from '../../collector/index.ts';
import { READ_KEY, start, WRITE_KEY } from './collector-helpers.ts';
import { driftMetric, expPoint, kv, latencyMetric, post, randomLatencies, request, sumMetric, type Who } from './otlp-fixtures.ts';

const who: Who = { model: 'mnist-cnn', version: '4', backend: 'webgpu', deviceClass: 'gpu-software' };
let c: Collector;
let browser: Browser;

before(async () => {
  c = await start({ apiKeys: [WRITE_KEY], readKey: READ_KEY });
  const t0 = Date.now() - 10 * 60_000;
  for (let i = 0; i < 10; i++) {
    const t = t0 + i * 60_000;
    const metrics = [latencyMetric([expPoint(randomLatencies(100, 10 + i), 5, t, [kv(ATTR.phase, 'total')])]), sumMetric(METRIC.runs, 100, t), driftMetric([{ feature: 'pixel_mean', score: i < 7 ? 0.05 : 0.35, alert: i >= 7 }, { feature: 'predicted_class', score: 0.02, alert: false, test: 'js' }], t)];
    assert.equal((await post(c.url, request(who, metrics), { key: WRITE_KEY, batchId: randomUUID() })).status, 200);
  }
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await c.close();
});

test('the dashboard shows latency, drift per feature and the alert', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The page runs under its Content-Security-Policy: a blocked script or style would say so here.
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${c.url}/#key=${READ_KEY}`);
  await page.waitForSelector('#latency svg path');
  await page.waitForSelector('.feature.alerting');
  await page.hover('#latency svg');
  assert.match((await page.textContent('#tip')) ?? '', /p50 .*ms/);
  assert.equal(await page.locator('#latency svg path').count(), 3); // p50, p90, p99
  assert.equal(await page.textContent('#c-runs'), '1000');
  const alerting = await page.locator('.feature.alerting .name').allTextContents();
  assert.deepEqual(alerting, ['pixel_mean']);
  assert.match((await page.textContent('.feature.alerting .badge.alert')) ?? '', /ALERT/);
  assert.equal(await page.textContent('#c-alerts'), '3');
  assert.equal(await page.locator('.feature.alerting circle[fill="var(--alert)"]').count(), 3);
  assert.equal(await page.locator('#alerts tr').count(), 1 + 3);
  assert.ok(await page.locator('#card-alerts.alert').count());
  assert.deepEqual(await page.locator('#model option').allTextContents(), ['All models', 'mnist-cnn']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('without the read key the page asks for it', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${c.url}/`);
  await page.waitForSelector('#keybox', { state: 'visible' });
  await page.fill('#keyin', READ_KEY);
  await page.click('#keysave');
  await page.waitForSelector('#latency svg path');
  await page.close();
});

test('client strings are shown as text: a hostile feature, test or model name runs nothing', { timeout: 60_000 }, async () => {
  // Anyone holding the (public, in a demo) write key can post these names; the dashboard user reads them.
  const payload = (n: number): string => `<img src=x onerror="window.__xss=${n}">`;
  const hostile = await start({ apiKeys: [WRITE_KEY] });
  try {
    const bad: Who = { model: payload(1), version: payload(2), backend: 'cpu', deviceClass: 'cpu' };
    const t = Date.now() - 60_000;
    const drift = driftMetric([{ feature: payload(3), score: 0.4, alert: true, test: payload(4) }], t);
    assert.equal((await post(hostile.url, request(bad, [drift]), { key: WRITE_KEY })).status, 200);
    const res = await fetch(`${hostile.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hostile.url}/`);
    await page.waitForSelector('.feature.alerting svg');
    await page.hover('.feature.alerting svg'); // the tooltip names the test
    assert.equal(await page.textContent('.feature.alerting .name'), payload(3));
    assert.match((await page.textContent('#tip')) ?? '', /window\.__xss=4/);
    assert.match((await page.textContent('#alerts')) ?? '', /window\.__xss=1/);
    assert.equal(await page.locator('img').count(), 0, 'no element was made from a client string');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined); // reading a test-only global the payload would set
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await hostile.close();
  }
});
