// `node --import tsx bench/node/wasm-gemm-bench.ts [runs] [MxNxK,...]`: GFLOP/s of the wasm backend's f32 GEMM
// (dist/wasm/, both builds) beside onnxruntime-web's wasm EP on one thread (a one-node MatMul with
// B as an initializer, so ort may pre-pack it as Kiln does) and the machine's wasm SIMD peak
// (bench/wasm/simd-peak.c). Kiln times the kernel call alone with B packed once; ort times
// session.run, which adds copying A in and C out (a few percent at 256+, more at 64).
// Each sample repeats a call until ~40 ms of this process's CPU time have passed; samples of all
// runners, the peak included, are interleaved per shape so machine noise hits all of them, and the
// tables show medians. GFLOP/s are per CPU second of this process (process.cpuUsage), which other
// processes on this shared 2-core machine do not inflate as they do wall time; the wall-time
// table follows, with the load average. Everything here runs on one thread.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { Tensor } from '../../core/tensor.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm, type WasmBuild } from '../../runtime/backends/wasm/wasm-module.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

// Node 20 has relaxed SIMD behind a flag (Node >= 22: on); set before any module is compiled.
// (--no-wasm-dynamic-tiering was tried: it makes V8 optimise all of ort's large module in background
// threads, whose CPU time then lands in the first shapes' samples.)
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const runs = Math.max(3, Number(process.argv[2] ?? 7));
const ALL_SHAPES: readonly (readonly [number, number, number])[] = [
  [64, 64, 64], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [3136, 64, 576], [1, 1000, 1280],
  // matrix-vector (decode) shapes: B of 64 MB streams from memory on every call
  [1, 4096, 4096], [2, 4096, 4096], [3, 4096, 4096],
];
// optional argv[3]: a comma-separated list of MxNxK shapes to run (default: all)
const only = process.argv[3]?.split(',');
const SHAPES = ALL_SHAPES.filter(([m, n, k]) => !only || only.includes(`${m}x${n}x${k}`));
const SAMPLE_MS = 40;
const WARMUP_SAMPLES = 3;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Sample {
  /** GFLOP/s per CPU second of this process */
  cpu: number;
  /** GFLOP/s per wall second */
  wall: number;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One sample: call f until SAMPLE_MS of CPU time have passed. */
async function sample(flops: number, f: () => void | Promise<void>): Promise<Sample> {
  let calls = 0;
  const w0 = performance.now();
  const c0 = cpuMs();
  let c = c0;
  while (c - c0 < SAMPLE_MS) {
    await f();
    calls++;
    c = cpuMs();
  }
  const wall = performance.now() - w0;
  return { cpu: (flops * calls) / ((c - c0) * 1e6), wall: (flops * calls) / (wall * 1e6) };
}

interface Runner {
  name: string;
  run(): void | Promise<void>;
  output(): Float32Array;
  release(): Promise<void>;
}

function kilnRunner(w: KilnWasm, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Runner {
  const aOff = w.heapBase;
  const bOff = aOff + a.byteLength;
  const pOff = bOff + b.byteLength;
  const cOff = pOff + packedBBytes(k, n);
  const end = cOff + m * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aOff, a.length).set(a);
  new Float32Array(w.memory.buffer, bOff, b.length).set(b);
  w.packBF32({ b: bOff, ldb: n, k, n, out: pOff });
  return {
    name: `kiln-${w.build}`,
    run: () => w.gemmF32({ a: aOff, lda: k, bPacked: pOff, c: cOff, ldc: n, m, n, k }),
    output: () => new Float32Array(w.memory.buffer, cOff, m * n).slice(),
    release: async () => {},
  };
}

async function ortRunner(ort: OrtModule, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Promise<Runner> {
  const model = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [m, k] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [m, n] }],
    initializers: { b: new Tensor('float32', b, [k, n]) },
  });
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const feeds = { a: new ort.Tensor('float32', a, [m, k]) };
  let last: Float32Array = new Float32Array(0);
  return {
    name: 'ort-wasm-1t',
    run: async () => {
      const out = await session.run(feeds);
      last = out.y!.data as Float32Array; // MatMul on float32 inputs yields float32 data
    },
    output: () => last,
    release: () => session.release(),
  };
}

function peakRunner(build: WasmBuild): (iters: number) => number {
  const bytes = readFileSync(join(repoRoot, '.cache', 'wasm-bench', `simd-peak-${build}.wasm`));
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const f = exports['kiln_simd_peak_f32'];
  if (typeof f !== 'function') throw new Error('simd-peak module lacks kiln_simd_peak_f32');
  return (iters) => Number(f(iters, 0.999, 0.001));
}

execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-wasm.mjs'), '--bench-peak'], { stdio: 'inherit' });
execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-wasm.mjs'), '--if-stale'], { stdio: 'inherit' });
const ortModule: OrtModule = await import('onnxruntime-web');
ortModule.env.wasm.numThreads = 1;
const builds = await Promise.all((['simd', 'relaxed'] as const).map((build) => loadKilnWasm({ build, source: nodeWasmSource() })));

// Peak: 12 chains x 4 lanes x 2 FLOPs per iteration.
const peaks = (['simd', 'relaxed'] as const).map((b) => ({ build: b, f: peakRunner(b) }));
const PEAK_ITERS = 200_000;

const tables = { cpu: [] as string[], wall: [] as string[] };
for (const [m, n, k] of SHAPES) {
  const rand = seededRandom(m * 1_000_003 + n * 1009 + k);
  const a = uniform(rand, m * k);
  const b = uniform(rand, k * n);
  const runners = [...builds.map((w) => kilnRunner(w, m, n, k, a, b)), await ortRunner(ortModule, m, n, k, a, b)];
  // Warm-up, not measured: V8 tiers hot wasm functions up to optimised code in the background,
  // and ort pre-packs B on its first run.
  for (let r = 0; r < WARMUP_SAMPLES; r++) {
    for (const x of runners) await sample(2 * m * n * k, () => x.run());
    for (const p of peaks) await sample(PEAK_ITERS * 96, () => void p.f(PEAK_ITERS));
  }
  const outs = runners.map((x) => x.output());
  const maxDiff = Math.max(...outs.slice(1).map((o) => o.reduce((d, v, i) => Math.max(d, Math.abs(v - outs[0]![i]!)), 0)));
  const samples = [...runners, ...peaks].map(() => [] as Sample[]);
  for (let r = 0; r < runs; r++) {
    for (const [i, x] of runners.entries()) samples[i]!.push(await sample(2 * m * n * k, () => x.run()));
    for (const [j, p] of peaks.entries()) samples[runners.length + j]!.push(await sample(PEAK_ITERS * 96, () => void p.f(PEAK_ITERS)));
  }
  for (const clock of ['cpu', 'wall'] as const) {
    const med = samples.map((xs) => median(xs.map((x) => x[clock])));
    const [simd, relaxed, ort, peakSimd, peakRelaxed] = med as [number, number, number, number, number];
    const cells = [simd, relaxed, ort, peakSimd, peakRelaxed].map((g) => g.toFixed(1));
    tables[clock].push(`| ${m}x${n}x${k} | ${cells.join(' | ')} | ${((simd / peakSimd) * 100).toFixed(0)}% | ${((relaxed / peakRelaxed) * 100).toFixed(0)}% | ${(simd / ort).toFixed(2)}x | ${(relaxed / ort).toFixed(2)}x | ${maxDiff.toExponential(1)} |`);
  }
  await Promise.all(runners.map((x) => x.release()));
}

console.log(`Node ${process.versions.node} (V8 ${process.versions.v8}); median of ${runs} interleaved samples of ${SAMPLE_MS} ms CPU each; GFLOP/s`);
console.log('peak: 12 independent f32x4 chains, no memory traffic (SIMD128: mul then add; relaxed: relaxed_madd), sampled beside each shape');
for (const clock of ['cpu', 'wall'] as const) {
  console.log(`\n${clock === 'cpu' ? 'per CPU second of this process' : 'per wall second'}:`);
  console.log('| M x N x K | kiln simd | kiln relaxed | ort wasm 1t | peak simd | peak relaxed | simd/peak | relaxed/peak | simd/ort | relaxed/ort | max diff vs simd |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of tables[clock]) console.log(r);
}
console.log(`\nload average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
