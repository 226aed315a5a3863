// `node --import tsx bench/node/wasm-pool-bench.ts [samples]`: Kiln's wasm backend on 1 vs 2 threads
// (the pool in runtime/backends/wasm/thread-pool.ts) on the workloads where issue 11 measured 2
// threads losing under load: MatMul 256^3 and 512^3 and a BERT-like block (S=128, H=256). Wall-clock
// medians of interleaved ~30 ms samples, ratio 1t/2t (> 1: 2 threads faster), the load average
// before and after (the 2-core machine is shared: a second thread only helps when a core is free).
// Part 2: the GEMM kernel alone on 1 thread and on 2 with idle workers spinning 0, 50 or 100 us
// before they sleep (the pool's spinMicros), and the share of parts the worker took.
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { nodeThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-node.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { bertBlock } from './bert-block.ts';
import { msPerCall } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 15));
const SAMPLE_MS = 30;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rand = seededRandom(20261203);
const f32 = (dims: number[], scale = 1): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), scale), dims);

function matmul(n: number): { name: string; bytes: Uint8Array } {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [n, n] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [n, n] }],
    initializers: { b: f32([n, n]) },
  });
  return { name: `matmul-${n}`, bytes };
}

const PART = process.argv[3] ?? 'all';
const models = PART === 'kernel' ? [] : [matmul(256), matmul(512), bertBlock(128, 256, 4, f32)];
const load0 = loadavg().map((x) => x.toFixed(1)).join(' ');
const rows: string[] = [];
for (const m of models) {
  const sessions = [await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] }), await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'wasm', numThreads: 2 }] })];
  const meta = sessions[0]!.inputMetadata[0]!;
  const feeds = { [meta.name]: f32(meta.shape.map((d) => (typeof d === 'number' ? d : 1))) };
  const runs = sessions.map((s) => async () => void (await s.run(feeds)));
  for (const r of runs) for (let i = 0; i < 3; i++) await r();
  const times: number[][] = [[], []];
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) times[i]!.push(await msPerCall(r, SAMPLE_MS));
  const [t1, t2] = times.map(median) as [number, number];
  const wins = times[0]!.filter((t, i) => times[1]![i]! < t).length;
  rows.push(`| ${m.name} | ${t1.toFixed(3)} | ${t2.toFixed(3)} | ${(t1 / t2).toFixed(2)}x | ${wins}/${SAMPLES} | ${sessions[1]!.lastPlacement?.threads} |`);
  await Promise.all(sessions.map((s) => s.release()));
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms, interleaved; load average ${load0} before, ${loadavg().map((x) => x.toFixed(1)).join(' ')} after`);
console.log('| workload | kiln wasm 1t ms | kiln wasm 2t ms | 1t / 2t | 2t faster in samples | threads |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

function gemmRunner(w: KilnWasm, n: number): () => Promise<void> {
  const aAt = Math.ceil(w.heapBase / 64) * 64;
  const bAt = aAt + n * n * 4;
  const pAt = bAt + n * n * 4;
  const cAt = pAt + packedBBytes(n, n);
  const end = cAt + n * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, n * n).set(f32([n * n]).data);
  new Float32Array(w.memory.buffer, bAt, n * n).set(f32([n * n]).data);
  w.packBF32({ b: bAt, ldb: n, k: n, n, out: pAt });
  return () => Promise.resolve(w.gemmF32({ a: aAt, lda: n, bPacked: pAt, c: cAt, ldc: n, m: n, n, k: n }));
}

if (PART !== 'models') {
  const source = nodeWasmSource();
  const spins = [0, 50, 100];
  const mods = [await loadKilnWasm({ source }), ...(await Promise.all(spins.map((spinMicros) => loadKilnWasm({ source, numThreads: 2, spawner: nodeThreadSpawner(), spinMicros, splitChoice: 'always' }))))];
  const kload = loadavg().map((x) => x.toFixed(1)).join(' ');
  const krows: string[] = [];
  for (const n of [128, 256, 512]) {
    const runs = mods.map((w) => gemmRunner(w, n));
    for (const r of runs) for (let i = 0; i < 3; i++) await r();
    const parts0 = mods.map((w) => [w.workerParts, w.parallelGemms] as const);
    const times: number[][] = runs.map(() => []);
    for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) times[i]!.push(await msPerCall(r, SAMPLE_MS));
    const med = times.map(median);
    const share = mods.slice(1).map((w, i) => `${((w.workerParts - parts0[i + 1]![0]) / Math.max(1, w.parallelGemms - parts0[i + 1]![1])).toFixed(1)}`);
    krows.push(`| ${n}^3 | ${med.map((t) => t.toFixed(3)).join(' | ')} | ${med.slice(1).map((t) => (med[0]! / t).toFixed(2) + 'x').join(' / ')} | ${share.join(' / ')} |`);
  }
  await Promise.all(mods.map((w) => w.release()));
  console.log(`\nGEMM kernel, samples ${SAMPLES} x ~${SAMPLE_MS} ms interleaved; load average ${kload} before, ${loadavg().map((x) => x.toFixed(1)).join(' ')} after`);
  console.log(`| GEMM | 1t ms | ${spins.map((s) => `2t spin ${s} us ms`).join(' | ')} | 1t / 2t (spin ${spins.join(' / ')}) | parts per call the worker took (spin ${spins.join(' / ')}) |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const r of krows) console.log(r);
}
