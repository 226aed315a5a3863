// The wasm thread pool's claimed parts (runtime/backends/wasm/thread-pool.ts, thread-job.ts
// claimPart): many small consecutive split calls of alternating shapes, where workers wake late or
// early and the caller takes whatever they have not, give bit for bit the single-threaded build's
// results on 2 and 3 threads (a part lost, run twice over stale arguments, or a call returning
// before its parts are done shows up as a wrong element); a part that traps in a worker or on the
// calling thread fails the call with INTERNAL, never hangs, and leaves the pool usable. Seeded
// inputs (KILN_TEST_SEED replays); nothing here depends on timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { KilnError } from '../../core/errors.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { CONTROL_BYTES, MAX_PARTS, partCount, Slot, type GemmExport } from '../../runtime/backends/wasm/thread-job.ts';
import { ThreadPool } from '../../runtime/backends/wasm/thread-pool.ts';
import { nodeThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-node.ts';
import { loadKilnWasm, packedBBytes, THREADS_MAX_PAGES, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { testRng } from '../helpers/random.ts';
import { expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; on by default from Node 22

const rng = testRng(import.meta.url);
console.log(`wasm pool claim tests: KILN_TEST_SEED=${rng.seed}`);
const source = nodeWasmSource();

/** One GEMM laid out once in a module's memory; `run` fills C with `c0`, multiplies and returns a copy of C's bits. */
interface Placed {
  run(): Uint32Array;
}

function place(w: KilnWasm, at: number, m: number, n: number, k: number, data: { a: Float32Array; b: Float32Array; c0: Float32Array }, accumulate: boolean): { placed: Placed; end: number } {
  const aAt = at;
  const bAt = aAt + m * k * 4;
  const packAt = bAt + k * n * 4;
  const cAt = packAt + packedBBytes(k, n);
  const end = cAt + m * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, m * k).set(data.a);
  new Float32Array(w.memory.buffer, bAt, k * n).set(data.b);
  w.packBF32({ b: bAt, ldb: n, k, n, out: packAt });
  return {
    end,
    placed: {
      run() {
        new Float32Array(w.memory.buffer, cAt, m * n).set(data.c0);
        w.gemmF32({ a: aAt, lda: k, bPacked: packAt, c: cAt, ldc: n, m, n, k, accumulate, activation: { kind: 'relu' } });
        return new Uint32Array(new Uint32Array(w.memory.buffer, cAt, m * n));
      },
    },
  };
}

test(`2,000 consecutive small split GEMMs of alternating shapes on 2 and 3 threads give the 1-thread bits every time (seed ${rng.seed})`, async () => {
  // Row splits (more 4-row tiles than 8-column panels) and column splits, with tails; tiny, so
  // workers often wake after the caller has taken every part, or in the middle of the next call.
  const shapes: readonly (readonly [number, number, number])[] = [[37, 9, 21], [6, 70, 13], [64, 64, 16], [9, 17, 5], [130, 24, 8]];
  const data = shapes.map(([m, n, k]) => ({ a: Float32Array.from(rng.floats(m * k, -1, 1)), b: Float32Array.from(rng.floats(k * n, -1, 1)), c0: Float32Array.from(rng.floats(m * n, -1, 1)) }));
  const accumulate = shapes.map((_, i) => i % 2 === 0);
  const layout = (w: KilnWasm): Placed[] => {
    let at = Math.ceil(w.heapBase / 64) * 64;
    return shapes.map(([m, n, k], i) => {
      const p = place(w, at, m, n, k, data[i]!, accumulate[i]!);
      at = Math.ceil(p.end / 64) * 64;
      return p.placed;
    });
  };
  const single = await loadKilnWasm({ source });
  const want = layout(single).map((p) => p.run());
  for (const threads of [2, 3]) {
    const w = await loadKilnWasm({ source, numThreads: threads, spawner: nodeThreadSpawner(), minParallelMacs: 0, splitChoice: 'always' });
    try {
      assert.equal(w.threads, threads);
      const placed = layout(w);
      const order = Array.from({ length: 2000 }, (_, i) => (i % 3 === 2 ? rng.int(shapes.length) : i % shapes.length)); // mostly cycling, some repeats
      for (const [call, s] of order.entries()) {
        const got = placed[s]!.run();
        const bad = got.findIndex((x, i) => x !== want[s]![i]);
        assert.equal(bad, -1, `call ${call}, shape ${shapes[s]!.join('x')} on ${threads} threads: element ${bad} differs from 1 thread`);
      }
      assert.equal(w.parallelGemms, order.length, 'every call ran split');
      console.log(`${threads} threads: workers ran ${w.workerParts} of the parts`);
    } finally {
      await w.release();
    }
  }
  await expectWorkersParkedThenGone();
});

test('partCount: one part per thread at least, up to 4 per thread for large work, never more than the units, the cap or MAX_PARTS', () => {
  assert.equal(partCount(100, 2, 0), 2);
  assert.equal(partCount(1, 3, 1e9), 1);
  assert.equal(partCount(64, 2, 256 ** 3), 8);
  assert.equal(partCount(64, 2, 128 ** 3), 8);
  assert.equal(partCount(64, 2, 96 ** 3), 3);
  assert.equal(partCount(100, 4, 1e12, 8), 8);
  assert.equal(partCount(1e6, 64, 1e12), 256);
  assert.ok(partCount(1e9, 5000, 1e15) <= MAX_PARTS);
});

/** A pool started directly over the threads build, so a test can hand the calling thread its own GEMM export. */
async function directPool(workers: number, callerGemm: (real: GemmExport, ctl: Int32Array) => GemmExport): Promise<{ pool: ThreadPool; memory: WebAssembly.Memory; arena: number; pack: (b: number, k: number, n: number, out: number) => void }> {
  const module = await WebAssembly.compile(await source('kiln-threads.wasm'));
  const memory = new WebAssembly.Memory({ initial: 64, maximum: THREADS_MAX_PAGES, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const heapBase = Number((instance.exports['__heap_base'] as WebAssembly.Global).value); // the threads build exports it (wasm-module.ts checks the same)
  const control = Math.ceil(heapBase / 16) * 16;
  const stackTops = Array.from({ length: workers }, (_, i) => control + CONTROL_BYTES + (i + 1) * 16384);
  const real = instance.exports['kiln_gemm_f32'] as GemmExport; // an export of the threads build
  const packB = instance.exports['kiln_pack_b_f32'] as (b: number, ldb: number, k: number, n: number, trans: number, bias: number, out: number) => void; // idem
  const ctl = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
  const pool = await ThreadPool.start(nodeThreadSpawner(), module, memory, control, stackTops, callerGemm(real, ctl), 0);
  return { pool, memory, arena: control + CONTROL_BYTES + workers * 16384, pack: (b, k, n, out) => packB(b, n, k, n, 0, 0, out) };
}

const isInternal = (e: unknown): boolean => e instanceof KilnError && e.code === 'INTERNAL';

test('a part that traps in a worker fails the call with INTERNAL, never hangs, and the pool then computes correctly', async () => {
  // The calling thread's parts wait until a worker has finished one, so a worker surely runs (and traps in) a part.
  // Its own parts skip the out-of-bounds call, so the only trap is the worker's.
  const { pool, memory, arena, pack } = await directPool(1, (real, ctl) => (...args) => {
    while (Atomics.load(ctl, Slot.WorkerParts) === 0) Atomics.wait(ctl, Slot.Probe, 0, 1); // 1 ms naps until a worker is done with a part
    if (args[3] < ctl.buffer.byteLength) real(...args);
  });
  try {
    const m = 64, n = 64, k = 16;
    const aAt = arena, bAt = aAt + m * k * 4, packAt = bAt + k * n * 4, cAt = packAt + packedBBytes(k, n);
    new Float32Array(memory.buffer, aAt, m * k).fill(1);
    new Float32Array(memory.buffer, bAt, k * n).fill(1);
    pack(bAt, k, n, packAt);
    const past = memory.buffer.byteLength + 4096; // C past the memory's end: every part traps
    assert.throws(() => pool.gemm({ a: aAt, lda: k, bPacked: packAt, c: past, ldc: n, m, n, k, flags: 0, lo: -Infinity, hi: Infinity }), (e: unknown) => isInternal(e) && /worker trapped/.test((e as Error).message));
    new Float32Array(memory.buffer, cAt, m * n).fill(-1);
    pool.gemm({ a: aAt, lda: k, bPacked: packAt, c: cAt, ldc: n, m, n, k, flags: 0, lo: -Infinity, hi: Infinity });
    assert.ok(new Float32Array(memory.buffer, cAt, m * n).every((x) => x === k), 'all-ones 64x64x16 gives 16 everywhere after the failed call');
  } finally {
    await pool.release();
  }
  await expectWorkersParkedThenGone();
});

test('a part that traps on the calling thread fails the call with INTERNAL after the workers are done, and the pool stays usable', async () => {
  const { pool, memory, arena, pack } = await directPool(2, (real) => real);
  try {
    const m = 96, n = 40, k = 24;
    const aAt = arena, bAt = aAt + m * k * 4, packAt = bAt + k * n * 4, cAt = packAt + packedBBytes(k, n);
    new Float32Array(memory.buffer, aAt, m * k).fill(1);
    new Float32Array(memory.buffer, bAt, k * n).fill(1);
    pack(bAt, k, n, packAt);
    for (let i = 0; i < 20; i++) {
      assert.throws(() => pool.gemm({ a: aAt, lda: k, bPacked: packAt, c: memory.buffer.byteLength + 4096, ldc: n, m, n, k, flags: 0, lo: -Infinity, hi: Infinity }), isInternal);
      new Float32Array(memory.buffer, cAt, m * n).fill(-1);
      pool.gemm({ a: aAt, lda: k, bPacked: packAt, c: cAt, ldc: n, m, n, k, flags: 0, lo: -Infinity, hi: Infinity });
      assert.ok(new Float32Array(memory.buffer, cAt, m * n).every((x) => x === k), `round ${i}: all-ones 96x40x24 gives 24 everywhere`);
    }
  } finally {
    await pool.release();
  }
  await expectWorkersParkedThenGone();
});
