// The wasm thread pool in Chromium: the same page served cross-origin isolated (the test bed's static
// server sends COOP/COEP) runs its GEMM on 2 threads, bit for bit equal to one thread, and release
// parks the workers for the next pool (terminated on demand here); served without those headers it runs on 1 thread and says why.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../../scripts/browser/chromium.ts';
import { bundlePageEntry } from '../../scripts/browser/bundle-page.ts';
import { startStaticServer, type StaticServer } from '../../scripts/browser/static-server.ts';
import { WASM_BUILD_FILES, WASM_THREADS_BUILD_FILES } from '../../runtime/backends/wasm/wasm-module.ts';
import { repoRoot } from '../helpers/paths.ts';
import { testRng } from '../helpers/random.ts';

const seed = testRng(import.meta.url).seed;
const dir = mkdtempSync(join(tmpdir(), 'kiln-threads-page-'));
let isolated: StaticServer | undefined;
let plain: Server | undefined;
let plainUrl = '';
let browser: Browser | undefined;

/** Serves `dir` on 127.0.0.1 without COOP/COEP: a page that is not cross-origin isolated. */
function startPlainServer(): Promise<string> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  plain = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => plain!.listen(0, '127.0.0.1', () => {
    const a = plain!.address();
    resolve(typeof a === 'object' && a ? `http://127.0.0.1:${a.port}` : '');
  }));
}

before(async () => {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run node scripts/setup.mjs`);
  const file = await bundlePageEntry(join(repoRoot, 'test/wasm/pages/threads-page.ts'), dir);
  const workerDir = mkdtempSync(join(tmpdir(), 'kiln-threads-worker-')); // bundlePageEntry empties its folder
  copyFileSync(join(workerDir, await bundlePageEntry(join(repoRoot, 'runtime/backends/wasm/thread-worker-browser.ts'), workerDir)), join(dir, 'thread-worker-browser.js'));
  rmSync(workerDir, { recursive: true, force: true });
  mkdirSync(join(dir, 'wasm'));
  for (const f of [...Object.values(WASM_BUILD_FILES), ...Object.values(WASM_THREADS_BUILD_FILES)]) copyFileSync(join(repoRoot, 'dist/wasm', f), join(dir, 'wasm', f));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script type="module" src="${file}"></script>`);
  isolated = await startStaticServer({ root: dir });
  plainUrl = await startPlainServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await isolated?.close();
  await new Promise((r) => (plain ? plain.close(r) : r(undefined)));
  rmSync(dir, { recursive: true, force: true });
});

interface ProbeResult { isolated: boolean; threads: number; note: string | null; parallel: number; same: boolean; parkedAfterRelease: number; liveAfterRelease: number }

async function probe(url: string): Promise<ProbeResult> {
  assert.ok(browser);
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  const console_: string[] = []; // for the message when the page does not start (a missing favicon logs here too)
  p.on('console', (m) => {
    if (m.type() === 'error') console_.push(m.text());
  });
  try {
    await p.goto(`${url}/index.html`);
    await p.waitForFunction(() => typeof (globalThis as { kilnThreadsProbe?: unknown }).kilnThreadsProbe === 'function', undefined, { timeout: 30_000 }).catch((e: unknown) => {
      throw new Error(`the page did not start: ${[...errors, ...console_].join('; ')}`, { cause: e });
    });
    const r = await p.evaluate((s) => (globalThis as unknown as { kilnThreadsProbe(seed: number): Promise<ProbeResult> }).kilnThreadsProbe(s), seed); // defined by test/wasm/pages/threads-page.ts
    assert.deepEqual(errors, []);
    return r;
  } finally {
    await p.close();
  }
}

test(`cross-origin isolated: 2 threads, the GEMM split and equal to 1 thread bit for bit, workers parked at release and gone when the parked ones are terminated (seed ${seed})`, async () => {
  assert.ok(isolated);
  assert.deepEqual(await probe(isolated.url), { isolated: true, threads: 2, note: null, parallel: 1, same: true, parkedAfterRelease: 1, liveAfterRelease: 0 });
});

test(`not isolated: 1 thread, and the reason says so (seed ${seed})`, async () => {
  assert.deepEqual(await probe(plainUrl), { isolated: false, threads: 1, note: 'the page is not cross-origin isolated', parallel: 0, same: true, parkedAfterRelease: 0, liveAfterRelease: 0 });
});
