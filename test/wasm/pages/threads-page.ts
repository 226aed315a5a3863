// Page entry for test/wasm/threads-browser.test.ts: loads the wasm kernels with numThreads 2 and the
// browser spawner, runs a GEMM big enough to split, and reports threads, crossOriginIsolated, why
// (when single-threaded) and whether the result matches a single-threaded module bit for bit.
import { browserThreadSpawner } from '../../../runtime/backends/wasm/thread-spawner-browser.ts';
import { liveThreadWorkers, parkedThreadWorkers, terminateParkedThreadWorkers } from '../../../runtime/backends/wasm/thread-pool.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm } from '../../../runtime/backends/wasm/wasm-module.ts';

function gemm(w: KilnWasm, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float32Array {
  const aAt = w.heapBase;
  const bAt = aAt + m * k * 4;
  const pAt = bAt + k * n * 4;
  const cAt = pAt + packedBBytes(k, n);
  const end = cAt + m * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, m * k).set(a);
  new Float32Array(w.memory.buffer, bAt, k * n).set(b);
  new Float32Array(w.memory.buffer, cAt, m * n).fill(Number.NaN);
  w.packBF32({ b: bAt, ldb: n, k, n, out: pAt });
  w.gemmF32({ a: aAt, lda: k, bPacked: pAt, c: cAt, ldc: n, m, n, k });
  return new Float32Array(w.memory.buffer, cAt, m * n).slice();
}

async function probe(seed: number): Promise<{ isolated: boolean; threads: number; note: string | null; parallel: number; same: boolean; parkedAfterRelease: number; liveAfterRelease: number }> {
  let state = seed >>> 0; // mulberry32, seeded from the test (test/helpers/random.ts imports node: modules)
  const r = {
    uniform(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
  const [m, n, k] = [133, 70, 250]; // 2.3M MACs: above the pool's threshold
  const a = Float32Array.from({ length: m * k }, () => r.uniform() * 2 - 1);
  const b = Float32Array.from({ length: k * n }, () => r.uniform() * 2 - 1);
  const one = await loadKilnWasm();
  const pool = await loadKilnWasm({ numThreads: 2, spawner: browserThreadSpawner(new URL('thread-worker-browser.js', location.href)) }); // bundled beside the page by the test
  const want = gemm(one, m, n, k, a, b);
  const got = gemm(pool, m, n, k, a, b);
  const result = { isolated: globalThis.crossOriginIsolated, threads: pool.threads, note: pool.threadsNote ?? null, parallel: pool.parallelGemms, same: got.every((x, i) => Object.is(x, want[i])), parkedAfterRelease: -1, liveAfterRelease: -1 };
  await pool.release();
  result.parkedAfterRelease = parkedThreadWorkers();
  await terminateParkedThreadWorkers();
  result.liveAfterRelease = liveThreadWorkers();
  return result;
}

(globalThis as { kilnThreadsProbe?: typeof probe }).kilnThreadsProbe = probe;
