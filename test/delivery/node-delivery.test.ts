// Browser-delivery pieces that also run in Node (the browser side is test/browser/worker-session and
// loading): URL loads with progress, abort and SHA-256 check (Node has no Cache API, so no cache),
// GPU device loss on Dawn (a new device, or the CPU when none can be had), and 'auto' backend choice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferenceSession, Tensor, KilnError } from '../../runtime/node.ts';
import { getGpu } from '../../runtime/backends/webgpu/gpu-provider.ts';
import { squareExpected, squareInput, squareModel } from '../browser/helpers/delivery-bed.ts';
import { startCountingServer, type CountingServer } from '../browser/helpers/counting-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-node-delivery-'));
let server: CountingServer | undefined;

before(async () => {
  writeFileSync(join(dir, 'square.onnx'), squareModel);
  writeFileSync(join(dir, 'big.onnx'), new Uint8Array(2 << 20)); // only ever aborted
  server = await startCountingServer({ mounts: { '/m/': dir, '/slow/': dir }, cors: true, slow: /^\/slow\// });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const feeds = (): { x: Tensor<'float32'> } => ({ x: new Tensor('float32', Float32Array.from(squareInput), [2, 3]) });

test('an http URL loads with progress; 404, hash mismatch and abort are clear errors', async () => {
  const url = `${server!.url}/m/square.onnx`;
  const progress: [number, number][] = [];
  const s = await InferenceSession.create(url, { executionProviders: ['cpu'], onProgress: (l, t) => progress.push([l, t]) });
  assert.deepEqual(Array.from((await s.run(feeds())).y!.data as Float32Array), squareExpected);
  await s.release();
  assert.deepEqual(progress.at(-1), [squareModel.length, squareModel.length]);
  await assert.rejects(InferenceSession.create(`${server!.url}/m/missing.onnx`), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /HTTP 404/.test(e.message));
  await assert.rejects(InferenceSession.create(url, { sha256: 'ab'.repeat(32) }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_MODEL' && e.message.includes('ab'.repeat(32)));
  const controller = new AbortController();
  const load = InferenceSession.create(`${server!.url}/slow/big.onnx`, { signal: controller.signal, onProgress: (l) => l > 0 && controller.abort() });
  await assert.rejects(load, (e: unknown) => e instanceof Error && e.name === 'AbortError');
});

/** Records the devices Dawn hands out, so a test can destroy them like a driver reset would. */
function trackDevices(): { devices: GPUDevice[]; refuse: boolean } {
  const gpu = getGpu();
  assert.ok(gpu, 'WebGPU in Node (the webgpu package on SwiftShader)');
  const state = { devices: [] as GPUDevice[], refuse: false };
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (options?: GPURequestAdapterOptions) => {
    const adapter = await requestAdapter(options);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (d?: GPUDeviceDescriptor) => {
      if (state.refuse) throw new Error('no device now');
      const device = await requestDevice(d);
      state.devices.push(device);
      return device;
    };
    return adapter;
  };
  return state;
}

test('device loss on Dawn: a new device first, the wasm CPU backend when no device can be had, one event each', { timeout: 60_000 }, async () => {
  const tracked = trackDevices();
  const events: string[] = [];
  const s = await InferenceSession.create(squareModel, { executionProviders: ['webgpu'], onDeviceLost: (e) => events.push(`${e.reason}->${e.executionProvider}`) });
  assert.deepEqual(Array.from((await s.run(feeds())).y!.data as Float32Array), squareExpected);
  tracked.devices.shift()!.destroy();
  assert.deepEqual(Array.from((await s.run(feeds())).y!.data as Float32Array), squareExpected);
  assert.equal(s.executionProvider, 'webgpu');
  tracked.refuse = true;
  tracked.devices.shift()!.destroy();
  assert.deepEqual(Array.from((await s.run(feeds())).y!.data as Float32Array), squareExpected);
  assert.equal(s.executionProvider, 'wasm', 'the wasm CPU backend takes over');
  assert.deepEqual(events, ['destroyed->webgpu', 'destroyed->wasm']);
  await s.release();
  tracked.refuse = false;
});

test("{ name: 'auto', ... } passes its wasm options to the backends it tries (numThreads: 0 is refused, not dropped)", { timeout: 60_000 }, async () => {
  await assert.rejects(InferenceSession.create(squareModel, { executionProviders: [{ name: 'auto', numThreads: 0 }] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /numThreads/.test(e.message));
});

test("'auto' measures both backends once, then remembers the choice for this adapter and model", { timeout: 60_000 }, async () => {
  const first = await InferenceSession.create(squareModel, { executionProviders: ['auto'] });
  const choice = first.backendChoice;
  assert.equal(choice.reason, 'measured');
  assert.ok(choice.medianMs?.webgpu !== undefined && choice.medianMs.wasm !== undefined);
  assert.equal(choice.chosen, choice.medianMs.webgpu < choice.medianMs.wasm ? 'webgpu' : 'wasm');
  assert.deepEqual(Array.from((await first.run(feeds())).y!.data as Float32Array), squareExpected);
  await first.release();
  const second = await InferenceSession.create(squareModel, { executionProviders: ['auto'] });
  assert.deepEqual(second.backendChoice, { mode: 'auto', chosen: choice.chosen, reason: 'remembered', adapter: choice.adapter });
  assert.equal(second.executionProvider, choice.chosen);
  await second.release();
  const listed = await InferenceSession.create(squareModel, { executionProviders: ['cpu'] });
  assert.deepEqual(listed.backendChoice, { mode: 'list', chosen: 'wasm', reason: 'first-that-started' });
  await listed.release();
});
