// The wasm GEMM on a pool of worker threads (threads build, shared memory): with 2 and 3 threads it
// gives bit for bit the single-threaded build's results (splits fall on whole panels or whole row
// tiles, so each output element keeps its summation order), writes nothing outside C, and really
// ran split (parallelGemms). Seeded inputs (KILN_TEST_SEED replays). Also: numThreads checks, the
// single-threaded fallback and its reason, and release terminating every worker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { KilnError } from '../../core/errors.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { liveThreadWorkers, MIN_PARALLEL_MACS, parkedThreadWorkers } from '../../runtime/backends/wasm/thread-pool.ts';
import { nodeThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-node.ts';
import { loadKilnWasm, packedBBytes, type GemmActivation, type KilnWasm, type WasmBuild } from '../../runtime/backends/wasm/wasm-module.ts';
import { testRng } from '../helpers/random.ts';
import { expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; on by default from Node 22

const rng = testRng(import.meta.url);
console.log(`wasm gemm threads tests: KILN_TEST_SEED=${rng.seed}`);
const POISON = 0x7fc0dead;

interface Case { m: number; n: number; k: number; accumulate: boolean; activation: GemmActivation }

/** Runs one GEMM on a module: A, B and C's prior values from `data`; C has 3 poisoned padding floats per row. */
function run(w: KilnWasm, c: Case, data: { a: Float32Array; b: Float32Array; c0: Float32Array }): { c: Uint32Array; padIntact: boolean } {
  const ldc = c.n + 3;
  const aAt = w.heapBase;
  const bAt = aAt + c.m * c.k * 4;
  const packAt = bAt + c.k * c.n * 4;
  const cAt = packAt + packedBBytes(c.k, c.n);
  const end = cAt + c.m * ldc * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, c.m * c.k).set(data.a);
  new Float32Array(w.memory.buffer, bAt, c.k * c.n).set(data.b);
  const cu = new Uint32Array(w.memory.buffer, cAt, c.m * ldc);
  cu.fill(POISON);
  const cf = new Float32Array(w.memory.buffer, cAt, c.m * ldc);
  for (let i = 0; i < c.m; i++) cf.set(data.c0.subarray(i * c.n, (i + 1) * c.n), i * ldc);
  w.packBF32({ b: bAt, ldb: c.n, k: c.k, n: c.n, out: packAt });
  w.gemmF32({ a: aAt, lda: c.k, bPacked: packAt, c: cAt, ldc, m: c.m, n: c.n, k: c.k, accumulate: c.accumulate, activation: c.activation });
  const out = new Uint32Array(new Uint32Array(w.memory.buffer, cAt, c.m * ldc)); // a copy
  let padIntact = true;
  for (let i = 0; i < c.m; i++) for (let j = c.n; j < ldc; j++) padIntact &&= out[i * ldc + j] === POISON;
  return { c: out, padIntact };
}

const source = nodeWasmSource();
// Shapes with M and N tails that are not multiples of 4 or 8: rows split (more row tiles than panels)
// and columns split (more panels). The pools split every GEMM (minParallelMacs 0) so small odd shapes
// run split; the last shape is above the default threshold.
const SHAPES: readonly (readonly [number, number, number])[] = [[130, 67, 33], [257, 9, 120], [13, 300, 70], [7, 1001, 40], [5, 11, 3], [99, 130, 29], [131, 129, 127]];

for (const build of ['simd', 'relaxed'] as WasmBuild[]) {
  test(`${build}: 2 and 3 threads give the single-threaded results bit for bit, rows and columns splits, tails, +C, relu/clip (seed ${rng.seed})`, async () => {
    const single = await loadKilnWasm({ build, source });
    const pools = [await loadKilnWasm({ build, source, numThreads: 2, spawner: nodeThreadSpawner(), minParallelMacs: 0, splitChoice: 'always' }), await loadKilnWasm({ build, source, numThreads: 3, spawner: nodeThreadSpawner(), minParallelMacs: 0, splitChoice: 'always' })];
    try {
      assert.deepEqual(pools.map((p) => p.threads), [2, 3]);
      const activations: GemmActivation[] = [{ kind: 'none' }, { kind: 'relu' }, { kind: 'clip', min: -0.5, max: 0.75 }];
      for (const [m, n, k] of SHAPES) {
        const c: Case = { m, n, k, accumulate: rng.uniform() < 0.5, activation: rng.pick(activations) };
        const data = { a: Float32Array.from(rng.floats(m * k, -1, 1)), b: Float32Array.from(rng.floats(k * n, -1, 1)), c0: Float32Array.from(rng.floats(m * n, -1, 1)) };
        const want = run(single, c, data);
        assert.ok(want.padIntact);
        for (const p of pools) {
          const before = p.parallelGemms;
          const got = run(p, c, data);
          assert.equal(p.parallelGemms, before + 1, `${m}x${n}x${k} on ${p.threads} threads ran split`);
          assert.ok(got.padIntact, `${m}x${n}x${k} on ${p.threads} threads wrote outside C`);
          assert.ok(got.c.every((x, i) => x === want.c[i]), `${m}x${n}x${k} ${JSON.stringify(c)} on ${p.threads} threads differs from 1 thread`);
        }
      }
    } finally {
      await Promise.all(pools.map((p) => p.release()));
    }
    // With the default threshold, a GEMM below MIN_PARALLEL_MACS stays on the calling thread and one above splits.
    const pool = await loadKilnWasm({ build, source, numThreads: 2, spawner: nodeThreadSpawner() });
    try {
      const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
      run(pool, { m: 64, n: 64, k: 64, accumulate: false, activation: { kind: 'none' } }, { a: ones(64 * 64), b: ones(64 * 64), c0: ones(64 * 64) });
      assert.ok(64 ** 3 < MIN_PARALLEL_MACS);
      assert.equal(pool.parallelGemms, 0);
      const big = run(pool, { m: 129, n: 129, k: 129, accumulate: false, activation: { kind: 'none' } }, { a: ones(129 * 129), b: ones(129 * 129), c0: ones(129 * 129) });
      assert.equal(pool.parallelGemms, 1);
      assert.ok(big.padIntact);
      assert.ok(new Float32Array(big.c.buffer).every((x, i) => i % 132 >= 129 || x === 129), 'all-ones 129^3 gives 129 everywhere');
    } finally {
      await pool.release();
    }
    await expectWorkersParkedThenGone();
  });
}

test('numThreads: bad values are KilnError INVALID_ARGUMENT; 1 or no spawner runs single-threaded and says why', async () => {
  for (const bad of [0, -1, 1.5, Number.NaN, 65, Infinity]) {
    await assert.rejects(loadKilnWasm({ source, numThreads: bad }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /numThreads/.test(e.message), String(bad));
  }
  const one = await loadKilnWasm({ source, numThreads: 1, spawner: nodeThreadSpawner() });
  assert.equal(one.threads, 1);
  assert.equal(one.threadsNote, undefined);
  assert.ok(!(one.memory.buffer instanceof SharedArrayBuffer));
  const noSpawner = await loadKilnWasm({ source, numThreads: 4 });
  assert.equal(noSpawner.threads, 1);
  assert.match(noSpawner.threadsNote ?? '', /spawner/);
  const failing = await loadKilnWasm({ source, numThreads: 2, spawner: () => ({ start: () => Promise.reject(new Error('no workers here')), terminate: () => Promise.resolve() }) });
  assert.equal(failing.threads, 1);
  assert.match(failing.threadsNote ?? '', /no workers here/);
  await expectWorkersParkedThenGone();
});

test('release parks the workers for the next pool: 5 pools of 3 threads started and released in turn use 2 workers; none is left after the parked ones are terminated', async () => {
  await expectWorkersParkedThenGone(); // none from earlier tests
  for (let i = 0; i < 5; i++) {
    const w = await loadKilnWasm({ source, numThreads: 3, spawner: nodeThreadSpawner() });
    assert.equal(w.threads, 3);
    assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [2, 0]);
    await w.release();
    assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [2, 2]);
  }
  await expectWorkersParkedThenGone();
});

test('a spawner without a park key: its workers are terminated at release, never parked', async () => {
  await expectWorkersParkedThenGone();
  const node = nodeThreadSpawner();
  const unkeyed = () => node(); // the same workers, but the pool cannot know they serve another pool
  const w = await loadKilnWasm({ source, numThreads: 3, spawner: unkeyed });
  assert.deepEqual([w.threads, liveThreadWorkers()], [3, 2]);
  await w.release();
  assert.deepEqual([liveThreadWorkers(), parkedThreadWorkers()], [0, 0]);
});
