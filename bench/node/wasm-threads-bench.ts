// `node --import tsx bench/node/wasm-threads-bench.ts [runs]`: the wasm backend's GEMM on 1 vs 2
// threads (the pool in runtime/backends/wasm/thread-pool.ts), then a whole one-node MatMul model:
// Kiln wasm on 1 and 2 threads, Kiln js ('js'), onnxruntime-web's wasm EP (its Node build runs on
// the calling thread: numThreads = 1). Threads make CPU time the wrong clock, so this reports wall
// time: medians of interleaved samples (~40 ms each), with the load average before and after, since
// this 2-core machine is shared and a second thread only helps when a core is free.
// Part 1 lowers the pool's threshold to 0 so small shapes split too: that is how MIN_PARALLEL_MACS
// was chosen (the smallest cube where 2 threads beat 1 in most runs).
import { loadavg, availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { Tensor } from '../../core/tensor.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { nodeThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-node.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; before any module is compiled

const runs = Math.max(3, Number(process.argv[2] ?? 7));
const SAMPLE_MS = 40;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

/** GFLOP/s (wall) of calling f repeatedly for ~SAMPLE_MS. */
async function sample(flops: number, f: () => void | Promise<void>): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SAMPLE_MS) {
    await f();
    calls++;
    t = performance.now();
  }
  return (flops * calls) / ((t - t0) * 1e6);
}

function gemmRunner(w: KilnWasm, m: number, n: number, k: number, a: Float32Array, b: Float32Array): () => void {
  const aAt = Math.ceil(w.heapBase / 64) * 64;
  const bAt = aAt + m * k * 4;
  const pAt = bAt + k * n * 4;
  const cAt = pAt + packedBBytes(k, n);
  const end = cAt + m * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, m * k).set(a);
  new Float32Array(w.memory.buffer, bAt, k * n).set(b);
  w.packBF32({ b: bAt, ldb: n, k, n, out: pAt });
  return () => w.gemmF32({ a: aAt, lda: k, bPacked: pAt, c: cAt, ldc: n, m, n, k });
}

async function main(): Promise<void> {
  console.log(`# wasm threads bench, ${runs} interleaved runs; cores ${availableParallelism()}; load before: ${load()}`);
  const source = nodeWasmSource();
  const rnd = seededRandom(1234);
  // Part 1: the kernel, 1 vs 2 threads, threshold off.
  const shapes: (readonly [number, number, number])[] = [[32, 32, 32], [48, 48, 48], [64, 64, 64], [96, 96, 96], [128, 128, 128], [256, 256, 256], [512, 512, 512], [3136, 64, 576]];
  const one = await loadKilnWasm({ source, numThreads: 1 });
  const two = await loadKilnWasm({ source, numThreads: 2, spawner: nodeThreadSpawner(), minParallelMacs: 0, splitChoice: 'always' });
  console.log(`\nbuild: ${one.build}; 2-thread module: ${two.threads} threads`);
  console.log('| M x N x K | 1 thread GFLOP/s | 2 threads GFLOP/s | 2t / 1t | 2t faster in runs |');
  console.log('|---|---|---|---|---|');
  for (const [m, n, k] of shapes) {
    const a = uniform(rnd, m * k);
    const b = uniform(rnd, k * n);
    const f1 = gemmRunner(one, m, n, k, a, b);
    const f2 = gemmRunner(two, m, n, k, a, b);
    const flops = 2 * m * n * k;
    await sample(flops, f1);
    await sample(flops, f2);
    const s1: number[] = [];
    const s2: number[] = [];
    for (let r = 0; r < runs; r++) {
      s1.push(await sample(flops, f1));
      s2.push(await sample(flops, f2));
    }
    const wins = s1.filter((x, i) => s2[i]! > x).length;
    console.log(`| ${m}x${n}x${k} | ${median(s1).toFixed(1)} | ${median(s2).toFixed(1)} | ${(median(s2) / median(s1)).toFixed(2)}x | ${wins}/${runs} |`);
  }
  await two.release();
  console.log(`load: ${load()}`);

  // Part 2: a whole MatMul model, B an initializer; session.run wall time (ms, median).
  const ort = (await import('onnxruntime-web')) as OrtModule;
  ort.env.wasm.numThreads = 1;
  console.log('\n| MatMul model | Kiln wasm 1t ms | Kiln wasm 2t ms | Kiln js ms | ort wasm 1t ms | ort / Kiln 1t | ort / Kiln 2t |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [m, n, k] of [[256, 256, 256], [512, 512, 512], [3136, 64, 576]] as const) {
    const a = uniform(rnd, m * k);
    const b = uniform(rnd, k * n);
    const model = encodeOnnxModel({
      nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [{ name: 'a', dtype: 'float32', dims: [m, k] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [m, n] }],
      initializers: { b: new Tensor('float32', b, [k, n]) },
    });
    const kiln1 = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
    const kiln2 = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 2 }] });
    const js = await InferenceSession.create(model, { executionProviders: ['js'] });
    const o = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feed = new Tensor('float32', a, [m, k]);
    const ortFeed = { a: new ort.Tensor('float32', a, [m, k]) };
    const runners: (() => Promise<void>)[] = [kiln1, kiln2, js].map((s) => async () => void (await s.run({ a: feed })));
    runners.push(async () => void (await o.run(ortFeed)));
    const ms: number[][] = runners.map(() => []);
    for (const f of runners) await f();
    for (let r = 0; r < runs; r++) {
      for (const [i, f] of runners.entries()) {
        const callsPerMs = (await sample(1e6, f)); // "GFLOP/s" of one unit per call = calls per ms
        ms[i]!.push(1 / callsPerMs);
      }
    }
    const med = ms.map(median);
    console.log(`| ${m}x${n}x${k} | ${med.map((x) => x.toFixed(2)).join(' | ')} | ${(med[3]! / med[0]!).toFixed(2)}x | ${(med[3]! / med[1]!).toFixed(2)}x |`);
    await Promise.all([kiln1.release(), kiln2.release(), js.release(), o.release()]);
  }
  console.log(`load after: ${load()}`);
}

await main();
