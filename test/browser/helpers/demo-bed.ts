// Shared setup of the demo PWA tests: a production build of the demo (cached in the temp folder,
// rebuilt when its sources change) copied to a fresh folder the tests may change (a model update),
// served like `npm start` serves it, with a collector in this process and Debian's Chromium.
// The bundles are demo/models' (T's trained ones); when that folder has no manifest yet, stand-ins
// with the same contract are generated (demo/scripts/standin-models.ts).
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startCollector, type Collector } from '../../../collector/index.ts';
import { ensureDemoBuild } from '../../../demo/scripts/build-demo.ts';
import { readManifest, refreshManifest } from '../../../demo/scripts/manifest-file.ts';
import { digitStandin, tabularStandin } from '../../../demo/scripts/standin-models.ts';
import { demoRoot } from '../../../demo/vite.config.ts';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../../../scripts/browser/chromium.ts';
import { startStaticServer, type StaticServer } from '../../../scripts/browser/static-server.ts';

export const DEMO_API_KEY = 'demo-test-key';

export interface DemoPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** uncaught errors and console errors of the page */
  readonly errors: string[];
}

export interface DemoBed {
  readonly browser: Browser;
  readonly server: StaticServer;
  readonly collector: Collector;
  readonly collectorDb: string;
  /** the served copy of the build: tests may change models/ in it */
  readonly siteDir: string;
  /** true when demo/models' trained bundles are served, false for the generated stand-ins */
  readonly realModels: boolean;
  /** a fresh browser context (empty storage) with the demo open and ready */
  open(context?: BrowserContext): Promise<DemoPage>;
  close(): Promise<void>;
}

function standinModels(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-demo-standins-'));
  writeFileSync(join(dir, 'mnist-cnn-int8.onnx'), digitStandin(1));
  writeFileSync(join(dir, 'mnist-cnn-int4.onnx'), digitStandin(2));
  writeFileSync(join(dir, 'iris-mlp-int8.onnx'), tabularStandin(3));
  const zero = '0'.repeat(64);
  const entry = (name: string, url: string, role: string, label: string): object => ({ name, version: '0', url, sha256: zero, bytes: 1, role, label });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ manifestVersion: 1, models: [entry('mnist-cnn-int8', 'mnist-cnn-int8.onnx', 'digits', 'int8'), entry('mnist-cnn-int4', 'mnist-cnn-int4.onnx', 'digits', 'int4'), entry('iris-mlp-int8', 'iris-mlp-int8.onnx', 'tabular', 'int8')] }));
  refreshManifest(dir);
  return dir;
}

/** demo/models has its manifest and every bundle it lists (T's trained models). */
function realModelsPresent(dir: string): boolean {
  if (!existsSync(join(dir, 'manifest.json'))) return false;
  return readManifest(dir).models.every((m) => existsSync(join(dir, m.url)));
}

export async function openDemoBed(): Promise<DemoBed> {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run \`node scripts/setup.mjs\` or set CHROMIUM_PATH`);
  // KILN_DEMO_MODELS: test against another folder of bundles + manifest.json (as `npm start` accepts)
  const real = process.env.KILN_DEMO_MODELS ?? join(demoRoot, 'models');
  const modelsDir = realModelsPresent(real) ? real : standinModels();
  const buildDir = join(tmpdir(), `kiln-demo-test-build-${Buffer.from(modelsDir === real ? real : 'standins').toString('base64url').slice(-24)}`);
  console.log(`# ${await ensureDemoBuild({ outDir: buildDir, modelsDir })}`);
  const siteDir = mkdtempSync(join(tmpdir(), 'kiln-demo-site-'));
  cpSync(buildDir, siteDir, { recursive: true });
  const dbDir = mkdtempSync(join(tmpdir(), 'kiln-demo-db-'));
  const collectorDb = join(dbDir, 'collector.sqlite');
  const collector = await startCollector({ port: 0, dbPath: collectorDb, apiKeys: [DEMO_API_KEY], log: () => undefined });
  const config = JSON.stringify({ telemetryEndpoint: `${collector.url}/v1/metrics`, apiKey: DEMO_API_KEY, dashboardUrl: `${collector.url}/` });
  const server = await startStaticServer({ root: siteDir, routes: { '/demo-config.json': () => ({ type: 'application/json', body: config }) } });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await Promise.all([server.close(), collector.close()]);
    throw e;
  }
  return {
    browser,
    server,
    collector,
    collectorDb,
    siteDir,
    realModels: modelsDir === real,
    async open(given) {
      const context = given ?? (await browser.newContext({ viewport: { width: 1280, height: 900 } }));
      // tsx compiles test files with esbuild's keepNames: functions passed to page.evaluate call __name.
      await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}/`);
      await waitReady(page);
      return { context, page, errors };
    },
    async close() {
      await browser.close().catch(() => undefined);
      await Promise.all([server.close(), collector.close()]);
      rmSync(siteDir, { recursive: true, force: true });
      rmSync(dbDir, { recursive: true, force: true });
      if (modelsDir !== real) rmSync(modelsDir, { recursive: true, force: true });
    },
  };
}

/** Waits until both models are loaded (or the page reports an error, which fails fast with its text). */
export async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', undefined, { timeout: 60_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') throw new Error(`the demo failed to start: ${await page.locator('#banner-error').textContent()}`);
}

/** Draws a stroke on the pad with the mouse (points in 0..1 of the pad's size). */
export async function drawOnPad(page: Page, points: readonly (readonly [number, number])[]): Promise<void> {
  const box = await page.locator('#pad').boundingBox();
  if (!box) throw new Error('the drawing pad is not visible');
  const at = (p: readonly [number, number]): [number, number] => [box.x + p[0] * box.width, box.y + p[1] * box.height];
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}
