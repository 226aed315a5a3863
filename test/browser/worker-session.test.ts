// Sessions in Web Workers, in Chromium through the script-tag build: a page with one <script> runs a
// model on WebGPU in a worker (the page's thread never touches the GPU), tensors cross as
// transferables and the caller keeps its inputs, errors keep class/code/message/stack, sessions
// share the page's worker or get their own, { worker: false } stays in the page, a lost GPU device
// is recovered (new device or CPU) with an event, and 'auto' measures once and then remembers.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type * as Kiln from '../../runtime/index.ts';
import { bundlePageEntry } from '../../scripts/browser/bundle-page.ts';
import { repoRoot } from '../helpers/paths.ts';
import { openDeliveryBed, squareExpected, squareInput, squareModel, type DeliveryBed, type PageHandle } from './helpers/delivery-bed.ts';

type KilnModule = typeof Kiln;
type Counts = { workers: number; adapters: number };
const TIMEOUT = 60_000;

let bed: DeliveryBed | undefined;
const bundleDir = mkdtempSync(join(tmpdir(), 'kiln-lossy-'));
const pages: PageHandle[] = [];

before(async () => {
  await bundlePageEntry(join(repoRoot, 'test/browser/pages/lossy-worker.ts'), bundleDir);
  bed = await openDeliveryBed({ '/__test__/': bundleDir });
});

after(async () => {
  await bed?.close();
  rmSync(bundleDir, { recursive: true, force: true });
});

async function scriptTagPage(): Promise<Page> {
  assert.ok(bed, 'the test bed did not start (see the before hook)');
  const handle = await bed.open('/pages/script-tag.html');
  pages.push(handle);
  return handle.page;
}

/** Counts, in the page, Worker constructions and navigator.gpu.requestAdapter calls on the page's thread. */
async function instrument(page: Page): Promise<void> {
  await page.evaluate(() => {
    const counted: Counts = { workers: 0, adapters: 0 };
    const g = globalThis as { kilnTestCounts?: Counts; Worker: typeof Worker };
    g.kilnTestCounts = counted;
    const Original = g.Worker;
    g.Worker = class extends Original {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        counted.workers++;
      }
    };
    const gpu = navigator.gpu;
    const requestAdapter = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o?: GPURequestAdapterOptions) => (counted.adapters++, requestAdapter(o));
  });
}

const counts = (page: Page): Promise<Counts | undefined> => page.evaluate(() => (globalThis as { kilnTestCounts?: Counts }).kilnTestCounts);

test('a page with only the script tag runs a model on WebGPU in a worker', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  await instrument(page);
  const before = bed!.server.count('/dist/kiln.iife.js');
  const r = await page.evaluate(async (x) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const session = await kiln.InferenceSession.create('/models/square.onnx', { executionProviders: ['webgpu'] });
    const out = await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    await session.release();
    const y = out.y!;
    return { provider: session.executionProvider, adapter: session.adapterInfo, dims: [...y.dims], data: Array.from(y.data as Float32Array), isTensor: y instanceof kiln.Tensor, placement: session.lastPlacement };
  }, squareInput);
  const onGpu = r.placement ? { gpu: r.placement.gpu, cpu: r.placement.cpu, where: r.placement.steps.map((s) => s.implementation) } : undefined;
  assert.deepEqual({ ...r, adapter: undefined, placement: onGpu }, { provider: 'webgpu', adapter: undefined, dims: [2, 3], data: squareExpected, isTensor: true, placement: { gpu: 1, cpu: 0, where: ['webgpu'] } }, 'Mul then Add run as one fused WebGPU step (kiln.FusedElementwise)');
  assert.match(r.adapter, /swiftshader/);
  assert.deepEqual(await counts(page), { workers: 1, adapters: 0 }, 'one worker started; the page itself never asked for a GPU adapter');
  assert.equal(bed!.server.count('/dist/kiln.iife.js') - before, 1, 'the worker loaded the same script (the page has it already)');
});

test('the script tag loaded from another origin (a CDN) starts its worker through a blob', { timeout: TIMEOUT }, async () => {
  assert.ok(bed);
  // The page lives on the second origin; kiln.iife.js comes from the first, as from a CDN.
  writeFileSync(join(bed.modelDir, 'cdn.html'), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script src="${bed.server.url}/dist/kiln.iife.js" crossorigin="anonymous"></script>`);
  const handle = await bed.open(`${bed.noCors.url}/models/cdn.html`);
  pages.push(handle);
  await instrument(handle.page);
  const before = bed.server.count('/dist/kiln.iife.js');
  const r = await handle.page.evaluate(async (x) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const session = await kiln.InferenceSession.create('/models/square.onnx', { executionProviders: ['webgpu'] });
    const out = await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    await session.release();
    return { provider: session.executionProvider, data: Array.from(out.y!.data as Float32Array) };
  }, squareInput);
  assert.deepEqual(r, { provider: 'webgpu', data: squareExpected });
  assert.deepEqual(await counts(handle.page), { workers: 1, adapters: 0 });
  assert.equal(bed.server.count('/dist/kiln.iife.js') - before, 1, 'the worker imported the script from its origin');
  assert.equal(bed.noCors.count('/models/square.onnx'), 1, 'the model came from the page\'s origin');
});

test('ESM build: { worker: false } loads kiln.core.mjs; a missing worker script is a clear error, not a hang', { timeout: TIMEOUT }, async () => {
  assert.ok(bed);
  // A deployment that forgot kiln.worker.mjs: kiln.mjs and kiln.core.mjs (with its lazy parts) only.
  mkdirSync(join(bed.modelDir, 'partial'));
  for (const f of ['kiln.mjs', ...readdirSync(join(repoRoot, 'dist')).filter((n) => /^kiln\.core(-[\w-]+)?\.mjs$/.test(n))]) copyFileSync(join(repoRoot, 'dist', f), join(bed.modelDir, 'partial', f));
  writeFileSync(join(bed.modelDir, 'partial/index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module">import * as kiln from "./kiln.mjs"; window.kiln = kiln;</script>');
  const handle = await bed.open('/models/partial/index.html');
  pages.push(handle);
  await handle.page.waitForFunction(() => 'kiln' in globalThis);
  const r = await handle.page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const local = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'], worker: false });
    const out = await local.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    const wrong = await local.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [3, 2]) }).then(() => undefined, (e: unknown) => e instanceof kiln.KilnError && e.code);
    await local.release();
    const started = performance.now();
    const failure = await kiln.InferenceSession.create(Uint8Array.from(bytes)).then(
      () => undefined,
      (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, code: (e as { code?: string }).code, message: (e as Error).message }),
    );
    return { y: Array.from(out.y!.data as Float32Array), isTensor: out.y instanceof kiln.Tensor, wrong, failure, ms: performance.now() - started };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.deepEqual(r.y, squareExpected);
  assert.equal(r.isTensor, true, 'outputs of kiln.core.mjs come back as kiln.mjs Tensors');
  assert.equal(r.wrong, 'INPUT_MISMATCH', 'and its errors as kiln.mjs KilnErrors');
  assert.ok(r.failure, 'create() without a worker script rejects');
  assert.deepEqual({ ...r.failure, message: undefined }, { isKilnError: true, code: 'DEVICE_UNAVAILABLE', message: undefined });
  assert.match(r.failure.message, /Kiln worker stopped.*could not be loaded/);
  assert.equal(bed.server.count('/models/partial/kiln.worker.mjs'), 1);
});

test('inputs travel to the worker and back: the caller\'s tensors stay usable, outputs arrive without copies', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'] });
    const input = new kiln.Tensor('float32', Float32Array.from(x), [2, 3]);
    const feeds = { x: input };
    // Concurrent runs with the same feeds: queued per session, each gets the buffer back first.
    const outs = await Promise.all([session.run(feeds), session.run(feeds), session.run(feeds)]);
    const view = new kiln.Tensor('float32', new Float32Array(12).subarray(6), [2, 3]); // a view: copied, never moved
    view.data.set(x);
    const viaView = await session.run({ x: view });
    await session.release();
    return {
      outs: outs.map((o) => Array.from(o.y!.data as Float32Array)),
      inputAfter: Array.from(input.data),
      viewBufferIntact: view.data.buffer.byteLength === 48,
      viaView: Array.from(viaView.y!.data as Float32Array),
    };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.deepEqual(r.outs, [squareExpected, squareExpected, squareExpected]);
  assert.deepEqual(r.inputAfter, squareInput, 'the input tensor holds its data again after the runs');
  assert.ok(r.viewBufferIntact, 'a tensor that is a view of a larger buffer is not detached');
  assert.deepEqual(r.viaView, squareExpected);
});

test("onnxruntime-web's arguments through the worker: run options, a pre-allocated output filled (its buffer travelling) and returned as itself, create(buffer, byteOffset, byteLength)", { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'] });
    const feeds = { x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) };
    const viaOptions = await session.run(feeds, { logSeverityLevel: 3 });
    const y = new kiln.Tensor('float32', new Float32Array(6), [2, 3]);
    const before = y.data;
    const out = await session.run(feeds, { y });
    // a view of a larger buffer cannot travel: filled here from the reply instead
    const view = new kiln.Tensor('float32', new Float32Array(12).subarray(6), [2, 3]);
    const viewData = view.data;
    const viaView = await session.run(feeds, { y: view });
    const wrong = new kiln.Tensor('float32', new Float32Array(6), [3, 2]);
    const wrongShape = await session.run(feeds, { y: wrong }).then(() => 'resolved', (e: { code?: string }) => e.code);
    await session.release();
    // create(buffer, byteOffset, byteLength, options): the model inside a larger buffer
    const padded = new Uint8Array(bytes.length + 8).fill(0xff);
    padded.set(bytes, 8);
    const inBuffer = await kiln.InferenceSession.create(padded.buffer, 8, bytes.length, { executionProviders: ['cpu'] });
    const viaOffset = Array.from((await inBuffer.run(feeds)).y!.data as Float32Array);
    await inBuffer.release();
    return {
      viaOptions: Array.from(viaOptions.y!.data as Float32Array), same: out.y === y, filled: Array.from(y.data), travelled: y.data !== before,
      viewSame: viaView.y === view && view.data === viewData, viewFilled: Array.from(view.data), wrongShape, wrongBack: wrong.data.length, viaOffset,
    };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.deepEqual(r.viaOptions, squareExpected);
  assert.ok(r.same, 'the pre-allocated tensor itself comes back');
  assert.deepEqual(r.filled, squareExpected);
  assert.ok(r.travelled, 'its buffer went to the worker and came back filled (no copy on the page)');
  assert.ok(r.viewSame, 'a view is filled in place on the page');
  assert.deepEqual(r.viewFilled, squareExpected);
  assert.equal(r.wrongShape, 'INPUT_MISMATCH');
  assert.equal(r.wrongBack, 6, 'a failed run gives the pre-allocated buffer back');
  assert.deepEqual(r.viaOffset, squareExpected, 'create(buffer, byteOffset, byteLength, options)');
});

test("onnxruntime-web's env.wasm set on the page reaches sessions in the worker", { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    kiln.env.wasm.wasmPaths = `${location.origin}/no-such-dir/`;
    const refused = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['wasm'] }).then(() => 'created', (e: { code?: string; message?: string }) => `${e.code} ${e.message}`);
    kiln.env.wasm = {};
    const s = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['wasm'] });
    const provider = s.executionProvider;
    await s.release();
    return { refused, provider };
  }, { bytes: Array.from(squareModel) });
  assert.match(r.refused, /^DEVICE_UNAVAILABLE .*no-such-dir\/kiln-/, 'the worker fetched the module from env.wasm.wasmPaths');
  assert.equal(r.provider, 'wasm', 'with env cleared the module comes from beside the bundle');
});

test('errors keep their class, code, message and stack across the worker boundary', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const describe = (e: unknown) => ({ isKilnError: e instanceof kiln.KilnError, name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message, stack: (e as Error).stack ?? '' });
    const bad = await kiln.InferenceSession.create(new Uint8Array([8, 1, 2]), { executionProviders: ['cpu'] }).then(() => undefined, describe);
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['cpu'] });
    const input = new kiln.Tensor('float32', Float32Array.from(x), [3, 2]);
    const wrongShape = await session.run({ x: input }).then(() => undefined, describe);
    const released = await session.release().then(() => session.run({ x: input })).then(() => undefined, describe);
    return { bad, wrongShape, released, inputAfter: Array.from(input.data) };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.ok(r.bad && r.wrongShape && r.released);
  assert.deepEqual({ ...r.bad, message: undefined, stack: undefined }, { isKilnError: true, name: 'KilnError', code: 'INVALID_MODEL', message: undefined, stack: undefined });
  assert.match(r.bad.message, /^\[INVALID_MODEL\] /);
  assert.match(r.bad.stack, /kiln\.iife\.js/, 'the stack is the worker\'s, where the error was thrown');
  assert.equal(r.wrongShape.code, 'INPUT_MISMATCH');
  assert.match(r.wrongShape.message, /expected shape \[n, 3\], given \[3, 2\]/);
  assert.deepEqual(r.inputAfter, squareInput, 'a failed run hands the input back too');
  assert.equal(r.released.code, 'RELEASED');
});

test('sessions share the page\'s worker by default; { worker: \'own\' } starts one; { worker: false } stays in the page', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  await instrument(page);
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const counted = (globalThis as { kilnTestCounts?: Counts }).kilnTestCounts!;
    const results: { where: string; workers: number; adapters: number; provider: string; y: number[] }[] = [];
    for (const worker of [true, true, 'own', false] as const) {
      const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], worker });
      const out = await session.run({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
      results.push({ where: String(worker), ...counted, provider: session.executionProvider, y: Array.from(out.y!.data as Float32Array) });
      await session.release();
    }
    return results;
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.deepEqual(r.map(({ where, workers, adapters, provider }) => ({ where, workers, adapters, provider })), [
    { where: 'true', workers: 1, adapters: 0, provider: 'webgpu' },
    { where: 'true', workers: 1, adapters: 0, provider: 'webgpu' },
    { where: 'own', workers: 2, adapters: 0, provider: 'webgpu' },
    { where: 'false', workers: 2, adapters: 1, provider: 'webgpu' },
  ]);
  for (const x of r) assert.deepEqual(x.y, squareExpected);
});

test('a GPU device lost in the worker is replaced, weights re-uploaded, and the page hears of it', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const worker = new Worker('/__test__/lossy-worker.js', { type: 'module', name: 'kiln-test' });
    const events: unknown[] = [];
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], worker, onDeviceLost: (e) => events.push(e) });
    const feeds = () => ({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    const before = Array.from((await session.run(feeds())).y!.data as Float32Array);
    const lost = new Promise<number>((resolve) => worker.addEventListener('message', (e: MessageEvent<{ kilnTest?: string; devices?: number }>) => e.data?.kilnTest === 'lost' && resolve(e.data.devices ?? 0)));
    worker.postMessage({ kilnTest: 'lose-devices' });
    const destroyed = await lost;
    const after = Array.from((await session.run(feeds())).y!.data as Float32Array);
    const provider = session.executionProvider;
    await session.release();
    worker.terminate();
    return { before, after, destroyed, events, provider };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.equal(r.destroyed, 1);
  assert.deepEqual(r.before, squareExpected);
  assert.deepEqual(r.after, squareExpected, 'the run after the loss gives the same result');
  assert.equal(r.events.length, 1, 'one devicelost event');
  assert.deepEqual({ ...(r.events[0] as object), adapterInfo: undefined, message: undefined }, { reason: 'destroyed', executionProvider: 'webgpu', adapterInfo: undefined, message: undefined });
  assert.equal(r.provider, 'webgpu');
});

test('in the page thread: a run in flight survives a device loss; with no new device the session falls back to the CPU', { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async ({ bytes, x }) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const devices: GPUDevice[] = [];
    let refuse = false;
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, d?: GPUDeviceDescriptor) {
      if (refuse) throw new Error('no device for you');
      const device = await requestDevice.call(this, d);
      devices.push(device);
      return device;
    };
    const events: { executionProvider: string; reason: string }[] = [];
    const session = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['webgpu'], worker: false, onDeviceLost: (e) => events.push(e) });
    const feeds = () => ({ x: new kiln.Tensor('float32', Float32Array.from(x), [2, 3]) });
    const timeout = (p: Promise<unknown>) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('the run hung')), 20_000))]);
    await session.run(feeds());
    // 1. lost while a run is in flight: the run is not left hanging and gives the right answer
    const inFlight = session.run(feeds());
    devices.shift()!.destroy();
    const first = Array.from(((await timeout(inFlight)) as Record<string, Kiln.Tensor>).y!.data as Float32Array);
    const afterFirst = session.executionProvider;
    // 2. lost again, and no device can be had: the CPU takes over
    refuse = true;
    devices.shift()!.destroy();
    const second = Array.from(((await timeout(session.run(feeds()))) as Record<string, Kiln.Tensor>).y!.data as Float32Array);
    const afterSecond = session.executionProvider;
    await session.release();
    return { first, second, afterFirst, afterSecond, events: events.map((e) => `${e.reason}->${e.executionProvider}`) };
  }, { bytes: Array.from(squareModel), x: squareInput });
  assert.deepEqual(r.first, squareExpected);
  assert.deepEqual(r.second, squareExpected);
  assert.equal(r.afterFirst, 'webgpu');
  assert.equal(r.afterSecond, 'wasm');
  assert.deepEqual(r.events, ['destroyed->webgpu', 'destroyed->wasm']);
});

test("'auto' times webgpu and wasm once on the model, keeps the faster, and remembers it for the adapter", { timeout: TIMEOUT }, async () => {
  const page = await scriptTagPage();
  const r = await page.evaluate(async (bytes) => {
    const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
    const first = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['auto'] });
    const a = { provider: first.executionProvider, choice: first.backendChoice };
    await first.release();
    const second = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ['auto'] });
    const b = { provider: second.executionProvider, choice: second.backendChoice };
    await second.release();
    return { a, b };
  }, Array.from(squareModel));
  const { a, b } = r;
  assert.equal(a.choice.mode, 'auto');
  assert.equal(a.choice.reason, 'measured');
  const { webgpu, wasm } = a.choice.medianMs ?? {};
  assert.ok(webgpu !== undefined && wasm !== undefined && webgpu >= 0 && wasm >= 0, `both backends were timed: ${JSON.stringify(a.choice.medianMs)}`);
  assert.equal(a.choice.chosen, webgpu < wasm ? 'webgpu' : 'wasm', 'the faster one is chosen');
  assert.equal(a.provider, a.choice.chosen);
  assert.match(a.choice.adapter ?? '', /swiftshader/);
  assert.deepEqual({ ...b.choice }, { mode: 'auto', chosen: a.choice.chosen, reason: 'remembered', adapter: a.choice.adapter }, 'the second session starts only the remembered backend');
  assert.equal(b.provider, a.choice.chosen);
  console.log(`# auto on SwiftShader: webgpu ${webgpu.toFixed(2)} ms, wasm ${wasm.toFixed(2)} ms -> ${a.choice.chosen}`);
});

test('no uncaught errors in the pages', () => {
  assert.deepEqual(pages.flatMap((p) => p.errors), []);
});
