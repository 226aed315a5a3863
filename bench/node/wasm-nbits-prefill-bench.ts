// `node --import tsx bench/node/wasm-nbits-prefill-bench.ts [samples] [M list] [KxN]`: MatMulNBits
// (int4, block 32, packed zero points) as raw kernel calls at M rows of A, on the wasm module:
// - per-row: kiln_nbits_f32, which unpacks every weight once per row of A (the decode kernel);
// - gemm: kiln_nbits_gemm_f32, W dequantized per K chunk x 8-column panel into scratch, then the f32
//   GEMM over all rows (kernels/matmul-nbits/wasm.ts runs it from PREFILL_ROWS rows), 1 and 2 threads;
// - f32: kiln_gemm_f32 on the same weights already dequantized and packed (the ceiling).
// Wall-clock medians (ms per call) of interleaved ~40 ms samples, the load average beside them: this
// 2-core machine is shared, so 2 threads only help when a core is free.
import { loadavg } from 'node:os';
import v8 from 'node:v8';
import { MAX_ROW_PARTS } from '../../kernels/wasm/contract.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { nodeThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-node.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; before any module is compiled

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 5));
const ROWS = (process.argv[3] ?? '1,4,8,16,32,128').split(',').map(Number);
const [K, N] = (process.argv[4] ?? '4096x4096').split('x').map(Number) as [number, number];
const BS = 32;
const KC = 256;
const GROUP = 8;
const SAMPLE_MS = 40;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rnd = seededRandom(20261203);

/** Lays out A, the packed int4 weights, scales, zero points, Y, scratch and the f32 packed twin; returns the calls. */
function layout(w: KilnWasm, m: number): { perRow: () => void; gemm: () => void; f32: () => void } {
  const nBlocks = Math.ceil(K / BS);
  const rowBytes = (nBlocks * BS) / 2;
  let at = Math.ceil(w.heapBase / 64) * 64;
  const take = (bytes: number): number => {
    const r = at;
    at += Math.ceil(bytes / 64) * 64;
    return r;
  };
  const [aAt, bAt, sAt, zAt, yAt] = [take(m * K * 4), take(N * rowBytes), take(N * nBlocks * 4), take(N * nBlocks * 4), take(m * N * 4)];
  const partBytes = GROUP * (KC + 1) * 8 * 4;
  const scratch = take(MAX_ROW_PARTS * partBytes);
  const fAt = take(N * K * 4);
  const pAt = take(packedBBytes(K, N));
  if (at > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((at - w.memory.buffer.byteLength) / 65536));
  const mem = w.memory.buffer;
  new Float32Array(mem, aAt, m * K).set(uniform(rnd, m * K, 1));
  const q = new Uint8Array(mem, bAt, N * rowBytes);
  for (let i = 0; i < q.length; i++) q[i] = Math.floor(rnd() * 256);
  new Float32Array(mem, sAt, N * nBlocks).set(uniform(rnd, N * nBlocks, 0.02).map((v) => Math.abs(v) + 0.001));
  const z = new Float32Array(mem, zAt, N * nBlocks);
  for (let i = 0; i < z.length; i++) z[i] = Math.floor(rnd() * 16);
  // the f32 twin: W^T dequantized (values do not matter for speed; the same count of floats)
  new Float32Array(mem, fAt, N * K).set(uniform(rnd, N * K, 0.1));
  w.packBF32({ b: fAt, ldb: K, k: K, n: N, transB: true, out: pAt });
  const perRow = w.fn('kiln_nbits_f32');
  const panels = Math.ceil(N / 8);
  return {
    perRow: () => void perRow(aAt, m, K, bAt, 4, BS, nBlocks, sAt, zAt, 1, 0, yAt, N),
    gemm: () => w.parallelRows('kiln_nbits_gemm_f32', { args: [aAt, m, K, bAt, 4, BS, nBlocks, sAt, zAt, 1, 0, yAt, N, KC, GROUP, scratch], floats: 0, rows: panels, scratchArg: 15, scratchStride: partBytes, work: m * N * K }),
    f32: () => w.gemmF32({ a: aAt, lda: K, bPacked: pAt, c: yAt, ldc: N, m, n: N, k: K }),
  };
}

async function sample(f: () => void): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SAMPLE_MS) {
    f();
    calls++;
    t = performance.now();
  }
  return (t - t0) / calls;
}

const source = nodeWasmSource();
const load0 = loadavg()[0]!;
console.log(`MatMulNBits int4 block ${BS}, K x N = ${K} x ${N}; ms per call, medians of ${SAMPLES} interleaved ~${SAMPLE_MS} ms samples`);
console.log('| build | M | per-row 1t | gemm 1t | gemm 2t | f32 GEMM 1t | f32 GEMM 2t | per-row / gemm 1t | gemm / f32 1t |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const build of ['simd', 'relaxed'] as const) {
  const one = await loadKilnWasm({ build, source });
  const two = await loadKilnWasm({ build, source, numThreads: 2, spawner: nodeThreadSpawner(), splitChoice: 'always' });
  for (const m of ROWS) {
    const [a, b] = [layout(one, m), layout(two, m)];
    const runs: (() => void)[] = [a.perRow, a.gemm, b.gemm, a.f32, b.f32];
    const skipGemm = m < 4; // kiln_gemm_f32 takes its matrix-vector tiles below 4 rows: the gemm path is for M >= 4
    for (const r of runs) r();
    const times: number[][] = runs.map(() => []);
    for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) if (!(skipGemm && (i === 1 || i === 2))) times[i]!.push(await sample(r));
    const [pr, g1, g2, f1, f2] = times.map((t) => (t.length ? median(t) : NaN)) as [number, number, number, number, number];
    console.log(`| ${build} | ${m} | ${pr.toFixed(2)} | ${g1.toFixed(2)} | ${g2.toFixed(2)} | ${f1.toFixed(2)} | ${f2.toFixed(2)} | ${(pr / g1).toFixed(2)}x | ${(g1 / f1).toFixed(2)} |`);
  }
  await two.release();
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
