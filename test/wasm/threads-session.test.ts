// Sessions on the wasm backend with a thread pool: executionProviders [{ name: 'wasm', numThreads }].
// A MatMul model (constant B, fused-bias-free and with a Relu, sizes with tails) gives bit for bit the
// same output on 1, 2 and 3 threads, the MatMul really ran in wasm, lastPlacement.threads and
// adapterInfo say how many threads ran; bad numThreads values are KilnError INVALID_ARGUMENT; sessions
// created and released in a loop leave no worker behind. Seeded inputs (KILN_TEST_SEED replays).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { defaultWasmThreads } from '../../runtime/backends/wasm/wasm-backend.ts';
import { liveThreadWorkers, parkedThreadWorkers } from '../../runtime/backends/wasm/thread-pool.ts';
import { testRng } from '../helpers/random.ts';
import { expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

const rng = testRng(import.meta.url);
console.log(`wasm threads session tests: KILN_TEST_SEED=${rng.seed}`);

const [M, K, N] = [261, 131, 75]; // 2.6M MACs: above the pool's threshold (128^3); M % 4 = 1, N % 8 = 3
const b = new Tensor('float32', Float32Array.from(rng.floats(K * N, -1, 1)), [K, N]);
const model = encodeOnnxModel({
  nodes: [
    { opType: 'MatMul', inputs: ['a', 'b'], outputs: ['p'] },
    { opType: 'Relu', inputs: ['p'], outputs: ['y'] },
  ],
  inputs: [{ name: 'a', dtype: 'float32', dims: [M, K] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }],
  initializers: { b },
});
const a = new Tensor('float32', Float32Array.from(rng.floats(M * K, -1, 1)), [M, K]);

async function runOn(numThreads: number): Promise<{ y: Float32Array; threads: number | undefined; info: string; impl: string[] }> {
  const s = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads }] });
  try {
    const out = await s.run({ a });
    const y = out['y']!.data as Float32Array;
    return { y, threads: s.lastPlacement?.threads, info: s.adapterInfo, impl: (s.lastPlacement?.steps ?? []).map((st) => st.implementation ?? '') };
  } finally {
    await s.release();
  }
}

test(`MatMul + Relu on 1, 2, 3 threads: same bits, ran in wasm, threads visible (seed ${rng.seed})`, async () => {
  const one = await runOn(1);
  assert.equal(one.threads, 1);
  assert.match(one.info, /1 thread\)/);
  assert.ok(one.impl.includes('wasm'), `placement ${one.impl.join(',')}`);
  // a float64 check of a few entries, so the single-threaded run is no oracle of itself
  for (const [i, j] of [[0, 0], [M - 1, N - 1], [150, 37]] as const) {
    let s = 0;
    for (let k = 0; k < K; k++) s += (a.data as Float32Array)[i * K + k]! * (b.data as Float32Array)[k * N + j]!;
    assert.ok(Math.abs(one.y[i * N + j]! - Math.max(0, s)) <= 1e-4, `y[${i},${j}]`);
  }
  for (const n of [2, 3]) {
    const r = await runOn(n);
    assert.equal(r.threads, n);
    assert.match(r.info, new RegExp(`${n} threads`));
    assert.ok(r.impl.includes('wasm'));
    assert.ok(r.y.every((v, i) => Object.is(v, one.y[i])), `${n} threads differ from 1`);
  }
  await expectWorkersParkedThenGone();
});

test('default numThreads is what the machine offers, at most 4; bad values are KilnError INVALID_ARGUMENT', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  await s.run({ a });
  assert.equal(s.lastPlacement?.threads, defaultWasmThreads());
  assert.ok(defaultWasmThreads() >= 1 && defaultWasmThreads() <= 4);
  await s.release();
  for (const bad of [0, -2, 2.5, Number.NaN, 1000]) {
    await assert.rejects(InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: bad }] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /numThreads/.test(e.message), String(bad));
  }
  await expectWorkersParkedThenGone();
});

test('sessions with 3 threads created, run and released 8 times: the same 2 workers serve each in turn, parked between them; then none is left', async () => {
  await expectWorkersParkedThenGone(); // none from earlier tests
  for (let i = 0; i < 8; i++) {
    const s = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 3 }] });
    assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [2, 0], `session ${i}: its 2 workers (reused after the first), none parked`);
    const out = await s.run({ a });
    assert.equal(s.lastPlacement?.threads, 3);
    assert.ok(out['y'], 'the session computes on its reused workers');
    await s.release();
    assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [2, 2], `after session ${i}: both workers parked`);
  }
  // Two sessions at once need 4 workers: the 2 parked ones and 2 new.
  const [s1, s2] = await Promise.all([0, 1].map(() => InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 3 }] })));
  assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [4, 0]);
  await Promise.all([s1!.release(), s2!.release()]);
  await expectWorkersParkedThenGone();
});
