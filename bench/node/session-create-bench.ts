// `node --import tsx bench/node/session-create-bench.ts`: what creating, running once and releasing
// a session costs with the wasm backend on 2 threads, where starting the pool's worker was most of it
// (docs/decisions.md pool-park). Per round, interleaved: Kiln wasm 2 threads reusing the parked
// worker; Kiln wasm 2 threads after the parked workers are terminated (a worker started, as before
// parking); Kiln wasm 1 thread; onnxruntime-web wasm (its thread count is process-wide and set once,
// so its pool starts with the first session only). Medians of the rounds, load average beside.
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { terminateParkedThreadWorkers } from '../../runtime/backends/wasm/thread-pool.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { matmulWorkload } from '../page/workloads.ts';

const ROUNDS = 15;
const N = 128;
const source = matmulWorkload(N).onnx;
if (!('bytes' in source)) throw new Error('the matmul workload is built in memory');
const model = source.bytes;
const a = uniform(seededRandom(20261204), N * N, 1);

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 2;

async function kiln(numThreads: number, coldPool: boolean): Promise<number> {
  if (coldPool) await terminateParkedThreadWorkers();
  const t0 = performance.now();
  const s = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads }] });
  await s.run({ a: new Tensor('float32', a, [N, N]) });
  await s.release();
  return performance.now() - t0;
}

async function onnxruntime(): Promise<number> {
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  await s.run({ a: new ort.Tensor('float32', a, [N, N]) });
  await s.release();
  return performance.now() - t0;
}

const ways: [string, () => Promise<number>][] = [
  ['kiln wasm 2t, parked worker reused', () => kiln(2, false)],
  ['kiln wasm 2t, worker started', () => kiln(2, true)],
  ['kiln wasm 1t', () => kiln(1, false)],
  ['ort wasm 2t', onnxruntime],
];
for (const [, f] of ways) await f(); // first of each: module compile, JIT, ort's pool
const times = ways.map((): number[] => []);
const load0 = loadavg()[0]!;
for (let r = 0; r < ROUNDS; r++) for (const [i, [, f]] of ways.entries()) times[i]!.push(await f());
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
console.log(`matmul-${N}: create + 1 run + release, ms (median of ${ROUNDS} interleaved rounds); load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
for (const [i, [name]] of ways.entries()) console.log(`| ${name} | ${median(times[i]!).toFixed(1)} |`);
await terminateParkedThreadWorkers();
