// onnxruntime-web's `env.wasm.numThreads` / `env.wasm.wasmPaths` (runtime/api/env.ts): defaults of
// the wasm, cpu and auto providers of sessions created afterwards, the default provider list
// included; a provider's own values win; bad values are the same typed errors as a provider's own.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { env, InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';
import { expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

const model = encodeOnnxModel({
  nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [{ name: 'a', dtype: 'float32', dims: [2, 2] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [2, 2] }],
  initializers: { b: new Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]) },
});
const feeds = { a: new Tensor('float32', Float32Array.of(1, 0, 0, 1), [2, 2]) };

afterEach(() => {
  env.wasm = {};
});

async function threadsOf(providers: Parameters<typeof InferenceSession.create>[1]): Promise<number | undefined> {
  const s = await InferenceSession.create(model, providers);
  try {
    assert.deepEqual(Array.from((await s.run(feeds))['y']!.data as Float32Array), [1, 2, 3, 4]);
    return s.lastPlacement?.threads;
  } finally {
    await s.release();
  }
}

test('env.wasm.numThreads sets the threads of wasm sessions created after it; a provider\'s own value wins', async () => {
  assert.equal(await threadsOf({ executionProviders: ['wasm'] }), 2, 'the default on this 2-core machine (the test needs 2 cores: CI has them)');
  env.wasm.numThreads = 1;
  assert.equal(await threadsOf({ executionProviders: ['wasm'] }), 1);
  assert.equal(await threadsOf({ executionProviders: ['cpu'] }), 1, "'cpu' runs the wasm backend too");
  assert.equal(await threadsOf({ executionProviders: [{ name: 'wasm', numThreads: 2 }] }), 2, 'the provider says 2');
  await expectWorkersParkedThenGone();
});

test('env.wasm reaches the default provider list and bad values are typed errors', async () => {
  env.wasm.numThreads = 0;
  await assert.rejects(InferenceSession.create(model, { executionProviders: ['wasm'] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /numThreads/.test(e.message));
  env.wasm = { wasmPaths: 'http://127.0.0.1:9/kiln-wasm/' }; // nothing listens on port 9 (discard)
  await assert.rejects(InferenceSession.create(model, { executionProviders: ['wasm'] }), (e: unknown) => e instanceof KilnError && e.code === 'DEVICE_UNAVAILABLE' && /127\.0\.0\.1:9\/kiln-wasm/.test(e.message));
  // the default list (webgpu, wasm, js): WebGPU may start here; with it refused, wasm meets the bad path and js runs
  const s = await InferenceSession.create(model, { executionProviders: undefined });
  try {
    assert.ok(s.executionProvider === 'webgpu' || s.executionProvider === 'js', `got ${s.executionProvider}`);
  } finally {
    await s.release();
  }
  env.wasm = {};
  assert.equal(await threadsOf({ executionProviders: ['wasm'] }), 2, 'cleared: the default again');
  await expectWorkersParkedThenGone();
});
