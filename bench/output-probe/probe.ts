// What a run's fresh output array costs in a browser page (docs/decisions.md run-arguments): Kiln
// wasm runs of matmul-256 at 1 and 2 threads, each way alternating in blocks of 50 (3 rounds):
// outputs allocated by the run vs one pre-allocated tensor filled in place (run(feeds, { y })); and
// the array alone: allocating 256 KB, and its first fill from a wasm memory.
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/index.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { matmulWorkload } from '../page/workloads.ts';

const N = 256;
const ROUNDS = 3;
const BLOCK = 50;
const median = (xs: readonly number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;

async function probe(): Promise<Record<string, number>> {
  const source = matmulWorkload(N).onnx;
  if (!('bytes' in source)) throw new Error('the matmul workload is built in memory');
  const a = new Tensor('float32', uniform(seededRandom(20261204), N * N, 1), [N, N]);
  const out: Record<string, number> = {};
  for (const numThreads of [1, 2]) {
    const s = await InferenceSession.create(source.bytes, { executionProviders: [{ name: 'wasm', numThreads, wasmPaths: '/dist/wasm/' }] });
    const y = new Tensor('float32', new Float32Array(N * N), [N, N]);
    for (let i = 0; i < 30; i++) await s.run({ a }); // warm-up: JIT, the split choice
    const fresh: number[] = [];
    const filled: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < BLOCK; i++) {
        const t0 = performance.now();
        await s.run({ a });
        fresh.push(performance.now() - t0);
      }
      for (let i = 0; i < BLOCK; i++) {
        const t0 = performance.now();
        await s.run({ a }, { y });
        filled.push(performance.now() - t0);
      }
    }
    out[`run ms, ${numThreads} thread(s), fresh output`] = median(fresh);
    out[`run ms, ${numThreads} thread(s), pre-allocated output`] = median(filled);
    await s.release();
  }
  const memory = new WebAssembly.Memory({ initial: 64 });
  const view = new Float32Array(memory.buffer, 0, N * N);
  const alloc: number[] = [];
  const fill: number[] = [];
  let sink = 0;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 0)); // as between runs: the event loop turns
    let t0 = performance.now();
    const o = new Float32Array(N * N);
    alloc.push(performance.now() - t0);
    t0 = performance.now();
    o.set(view);
    fill.push(performance.now() - t0);
    sink += o[i]!;
  }
  out['new Float32Array(65536) ms'] = median(alloc);
  out['its first fill from wasm memory ms'] = median(fill);
  out['(sink)'] = sink;
  return out;
}

(globalThis as { outputProbe?: Promise<unknown> }).outputProbe = probe().catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
