// A Vite app that imports `kilnjs` (test/browser/pages/vite-app, built here with Vite's build API
// against the package as npm would install it: node_modules/kilnjs -> this repo, "browser"
// condition -> dist/kiln.mjs). Vite must find Kiln's worker and ship it with the app; the app then
// runs a model on WebGPU in that worker without the page touching the GPU.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { build } from 'vite';
import { repoRoot } from '../helpers/paths.ts';
import { openDeliveryBed, squareExpected, squareInput, squareModel, type DeliveryBed, type PageHandle } from './helpers/delivery-bed.ts';

interface AppResult {
  provider: string;
  dims: number[];
  data: number[];
  isTensor: boolean;
  progress: [number, number];
}

const appDir = mkdtempSync(join(tmpdir(), 'kiln-vite-app-'));
const outDir = join(appDir, 'dist');
let bed: DeliveryBed | undefined;
let handle: PageHandle | undefined;

before(async () => {
  // openDeliveryBed first: it makes sure dist/ is built, which the app build imports.
  bed = await openDeliveryBed({ '/app/': outDir });
  cpSync(join(repoRoot, 'test/browser/pages/vite-app'), appDir, { recursive: true });
  mkdirSync(join(appDir, 'node_modules'));
  symlinkSync(repoRoot, join(appDir, 'node_modules/kilnjs'), 'dir');
  const started = Date.now();
  await build({ root: appDir, configFile: false, logLevel: 'warn', base: './', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  console.log(`# vite build of the app: ${Date.now() - started} ms`);
});

after(async () => {
  await bed?.close();
  rmSync(appDir, { recursive: true, force: true });
});

test('Vite bundles Kiln\'s worker with the app, and the main chunk stays small', () => {
  const assets = readdirSync(join(outDir, 'assets'));
  const worker = assets.find((f) => /^kiln\.worker-.*\.js$/.test(f));
  const main = assets.filter((f) => /^index-.*\.js$/.test(f));
  assert.ok(worker, `a kiln.worker-*.js asset (got ${assets.join(', ')})`);
  assert.equal(main.length, 1, 'one entry chunk');
  const gz = (f: string): number => gzipSync(readFileSync(join(outDir, 'assets', f)), { level: 9 }).length;
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
  console.log(`# app download for a WebGPU session: ${main[0]} ${kb(gz(main[0]!))} + ${worker} ${kb(gz(worker))} gzip`);
  assert.ok(gz(main[0]!) < 20 * 1024, 'the page\'s own chunk carries only the API, not the runtime');
});

test('the app runs a model on WebGPU in the worker', { timeout: 60_000 }, async () => {
  assert.ok(bed);
  handle = await bed.open('/app/index.html');
  const { page } = handle;
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 20_000 });
  const r = await page.evaluate(async (x) => {
    let adapters = 0;
    const gpu = navigator.gpu;
    const requestAdapter = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o?: GPURequestAdapterOptions) => (adapters++, requestAdapter(o));
    const app = (globalThis as { kilnApp?: { run(url: string, x: number[]): Promise<AppResult> } }).kilnApp!;
    return { ...(await app.run('/models/square.onnx', x)), adapters };
  }, squareInput);
  assert.deepEqual(r, { provider: 'webgpu', dims: [2, 3], data: squareExpected, isTensor: true, progress: [squareModel.length, squareModel.length], adapters: 0 });
  assert.equal(bed.server.count(/^\/app\/assets\/kiln\.worker-.*\.js$/), 1, 'the worker script came from the app\'s assets');
  assert.equal(bed.server.count(/^\/dist\//), 0, 'nothing was loaded from Kiln\'s own dist/');
});

test('with { worker: false } the app loads the runtime chunk on demand and runs in the page', { timeout: 60_000 }, async () => {
  assert.ok(bed && handle);
  const before = bed.server.requests.length;
  const r = await handle.page.evaluate(async (x) => {
    const app = (globalThis as { kilnApp?: { run(url: string, x: number[], worker: boolean): Promise<AppResult> } }).kilnApp!;
    return app.run('/models/square.onnx', x, false);
  }, squareInput);
  assert.deepEqual({ ...r, progress: undefined }, { provider: 'webgpu', dims: [2, 3], data: squareExpected, isTensor: true, progress: undefined });
  const fetched = bed.server.requests.slice(before).filter((p) => p.startsWith('/app/assets/'));
  // The runtime chunk, the small chunks it imports statically (modules it shares with the lazy op
  // groups, which the bundler splits out: docs/decisions.md "lazy-ops"), and the ONNX reader it loads
  // for this model (an app serving .kiln bundles fetches the .kiln reader instead). Nothing else.
  const runtime = fetched.find((f) => /\/kiln\.core-[\w-]+\.js$/.test(f) && !f.includes('reader'));
  assert.ok(runtime, `the runtime chunk (got ${fetched.join(', ')})`);
  const runtimeCode = readFileSync(join(outDir, runtime.slice('/app/'.length)), 'utf8');
  const staticImports = new Set([...runtimeCode.matchAll(/\bimport\s*(?:[\w$*{}\s,]*?\s*from\s*)?["']\.\/([\w.-]+)["']/g)].map((m) => `/app/assets/${m[1]}`));
  assert.equal(fetched.filter((f) => f.includes('onnx-reader')).length, 1, `the ONNX reader once (got ${fetched.join(', ')})`);
  assert.deepEqual(fetched.filter((f) => f !== runtime && !f.includes('onnx-reader') && !staticImports.has(f)), [], `only the runtime chunk, its static imports and the ONNX reader (got ${fetched.join(', ')})`);
  for (const f of fetched) assert.doesNotMatch(f, /worker|wasm|telemetry|ops-/);
});

test('no uncaught errors in the app', () => {
  assert.deepEqual(handle?.errors ?? [], []);
  assert.deepEqual(handle?.messages ?? [], []);
});
