// The wasm kernels in Chromium, loaded as a Kiln bundle loads them: an ES module and a classic
// script (IIFE, where the bundler empties import.meta) each fetch wasm/<build>.wasm beside the
// bundle file. Checks the build chosen (Chromium has relaxed SIMD) and a few odd-sized GEMMs.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../../scripts/browser/chromium.ts';
import { startStaticServer, type StaticServer } from '../../scripts/browser/static-server.ts';
import { WASM_BUILD_FILES } from '../../runtime/backends/wasm/wasm-module.ts';
import { repoRoot } from '../helpers/paths.ts';
import { testRng } from '../helpers/random.ts';

const seed = testRng(import.meta.url).seed;
const dir = mkdtempSync(join(tmpdir(), 'kiln-wasm-page-'));
let server: StaticServer | undefined;
let browser: Browser | undefined;

before(async () => {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run node scripts/setup.mjs`);
  for (const format of ['es', 'iife'] as const) {
    await build({
      root: repoRoot,
      configFile: false,
      logLevel: 'error', // the IIFE build warns that import.meta becomes {}: that case is what this tests
      publicDir: false,
      build: {
        outDir: dir,
        emptyOutDir: false,
        target: 'es2022',
        minify: false,
        lib: { entry: join(repoRoot, 'test/wasm/pages/gemm-page.ts'), name: 'gemmPage', formats: [format], fileName: () => `gemm-page.${format}.js` },
      },
    });
  }
  mkdirSync(join(dir, 'wasm'));
  for (const file of Object.values(WASM_BUILD_FILES)) copyFileSync(join(repoRoot, 'dist/wasm', file), join(dir, 'wasm', file));
  writeFileSync(join(dir, 'es.html'), '<!doctype html><script type="module" src="gemm-page.es.js"></script>');
  writeFileSync(join(dir, 'iife.html'), '<!doctype html><script src="gemm-page.iife.js"></script>');
  server = await startStaticServer({ root: dir });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const page of ['es', 'iife'] as const) {
  test(`${page} bundle: fetches the relaxed build beside itself and its GEMMs match a float64 loop (seed ${seed})`, async () => {
    assert.ok(browser && server);
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    try {
      await p.goto(`${server.url}/${page}.html`);
      await p.waitForFunction(() => typeof (globalThis as { kilnWasmProbe?: unknown }).kilnWasmProbe === 'function', undefined, { timeout: 30_000 });
      const r = await p.evaluate((s) => (globalThis as unknown as { kilnWasmProbe(seed: number): Promise<{ build: string; problems: string[] }> }).kilnWasmProbe(s), seed); // the page entry defines it (test/wasm/pages/gemm-page.ts)
      assert.deepEqual(errors, []);
      assert.deepEqual(r, { build: 'relaxed', problems: [] });
    } finally {
      await p.close();
    }
  });
}
