// Where a split GEMM's time goes on Kiln's wasm pool in a browser page (issue 11, 2 threads in
// Chromium): the page's main thread calls kiln_gemm_f32 through the pool on the shapes of the bench
// workloads, 1-thread and 2-thread modules interleaved, the 2-thread ones with the pool's trace on
// (runtime/backends/wasm/thread-trace.ts) and their workers spinning 0 / 100 / 1000 us before they
// sleep. `gap` busy-waits between calls on the main thread, as the other steps of a model do.
// `peer=ort`: onnxruntime-web wasm on 2 threads runs a 256^3 MatMul before each timed call, as the
// bench interleaves it (its pthread spins after its runs: does that cost Kiln's second thread?);
// `idle=ms`: the page idles that long after the peer's run. `touch=pages`: each call comes with a
// fresh array of that many 4 KB pages to touch (a run's fresh output, first-touch.ts): the 2-thread
// modules touch it while their workers take parts, the 1-thread one after the call; timed with it.
import { browserThreadSpawner } from '../../runtime/backends/wasm/thread-spawner-browser.ts';
import { PageToucher } from '../../runtime/backends/wasm/first-touch.ts';
import { newPoolTrace, PoolTrace, TraceField, WorkerTraceField } from '../../runtime/backends/wasm/thread-trace.ts';
import { loadKilnWasm, packedBBytes, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

export interface ProbeRow {
  readonly shape: string;
  readonly gapUs: number;
  readonly variant: string;
  /** median ms per call */
  readonly ms: number;
  /** medians over traced calls, us after the post (absent for 1 thread) */
  readonly wakeUs?: number;
  readonly firstClaimUs?: number;
  readonly workerEndUs?: number;
  readonly callerEndUs?: number;
  readonly doneUs?: number;
  readonly callerParts?: number;
  readonly workerParts?: number;
  /** us per part on the caller and on the worker */
  readonly callerPartUs?: number;
  readonly workerPartUs?: number;
  /** share of calls where the worker took no part */
  readonly missed?: number;
  /** median of each call's wait after the caller's own parts (done - caller end) */
  readonly callerWaitUs?: number;
  /** 90th percentile of that wait */
  readonly callerWaitP90Us?: number;
}

const params = new URLSearchParams(location.search);
const CALLS = Number(params.get('calls') ?? 40);
const ROUNDS = Number(params.get('rounds') ?? 5);
const SPINS = (params.get('spins') ?? '0,100,1000').split(',').map(Number);
const GAPS = (params.get('gaps') ?? '0,200').split(',').map(Number);
const SHAPES = (params.get('shapes') ?? '256x256x256,512x512x512,64x128x512,64x512x128').split(',').map((x) => x.split('x').map(Number) as [number, number, number]);
const PEER = params.get('peer');
/** ms the page idles (a timer) after the peer's run, before the busy gap: does a quiet pause let the peer's threads sleep? */
const IDLE_MS = Number(params.get('idle') ?? 0);
const TOUCH_PAGES = Number(params.get('touch') ?? 0);
const log = (s: string): void => {
  document.getElementById('log')!.textContent += `${s}\n`;
};
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? NaN;
const median = (xs: readonly number[]): number => quantile(xs, 0.5);
const source = async (name: string): Promise<ArrayBuffer> => (await fetch(`/dist/wasm/${name}`)).arrayBuffer();
const spawner = browserThreadSpawner(new URL('/runtime/backends/wasm/kiln.thread-worker.mjs', location.href));
const rand = seededRandom(20261203);

function busy(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

function gemmCall(w: KilnWasm, m: number, k: number, n: number): () => void {
  const aAt = Math.ceil(w.heapBase / 64) * 64;
  const bAt = aAt + m * k * 4;
  const pAt = bAt + k * n * 4;
  const cAt = pAt + packedBBytes(k, n);
  const end = cAt + m * n * 4;
  if (end > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, aAt, m * k).set(uniform(rand, m * k, 1));
  new Float32Array(w.memory.buffer, bAt, k * n).set(uniform(rand, k * n, 1));
  w.packBF32({ b: bAt, ldb: n, k, n, out: pAt });
  return () => w.gemmF32({ a: aAt, lda: k, bPacked: pAt, c: cAt, ldc: n, m, n, k });
}

/** onnxruntime-web wasm, 2 threads, one 256^3 MatMul run per call (as the bench page loads it). */
async function ortPeer(): Promise<() => Promise<void>> {
  const dist = '/node_modules/onnxruntime-web/dist/';
  const ort = (await import(/* @vite-ignore */ `${dist}ort.wasm.min.mjs`)) as OrtModule;
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = 2;
  const n = 256;
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [n, n] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [n, n] }],
    initializers: { b: new Tensor('float32', uniform(rand, n * n, 1), [n, n]) },
  });
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const a = new ort.Tensor('float32', uniform(rand, n * n, 1), [n, n]);
  return async () => void (await s.run({ a }));
}

async function main(): Promise<ProbeRow[]> {
  const peer = PEER === 'ort' ? await ortPeer() : undefined;
  const variants: { name: string; w: KilnWasm; trace?: PoolTrace }[] = [{ name: '1t', w: await loadKilnWasm({ source }) }];
  for (const spinMicros of SPINS) {
    const trace = new PoolTrace(newPoolTrace());
    const w = await loadKilnWasm({ source, numThreads: 2, spawner, spinMicros, trace, splitChoice: 'always' });
    if (w.threads !== 2) throw new Error(`2 threads did not start: ${w.threadsNote ?? '?'}`);
    variants.push({ name: `2t spin ${spinMicros}`, w, trace });
  }
  const rows: ProbeRow[] = [];
  for (const [m, k, n] of SHAPES) {
    const calls = variants.map((v) => gemmCall(v.w, m, k, n));
    for (const c of calls) for (let i = 0; i < 5; i++) c();
    for (const gapUs of GAPS) {
      const times: number[][] = variants.map(() => []);
      const traced: Float64Array[][] = variants.map(() => []);
      for (let r = 0; r < ROUNDS; r++) {
        for (const [vi, v] of variants.entries()) {
          const first = v.trace?.calls ?? 0;
          for (let i = 0; i < CALLS; i++) {
            if (peer) await peer();
            if (IDLE_MS > 0) await new Promise((r) => setTimeout(r, IDLE_MS));
            busy(gapUs);
            const t0 = performance.now();
            if (TOUCH_PAGES > 0) {
              const toucher = new PageToucher([new Uint8Array(TOUCH_PAGES * 4096)]);
              v.w.touchWhileSplit(toucher);
              calls[vi]!();
              v.w.touchWhileSplit(undefined);
              while (toucher.pending) toucher.touch(64); // what the split left (all of it on 1 thread)
            } else calls[vi]!();
            times[vi]!.push(performance.now() - t0);
          }
          if (v.trace) for (let i = first; i < v.trace.calls; i++) traced[vi]!.push(v.trace.record(i));
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      for (const [vi, v] of variants.entries()) {
        const rec = traced[vi]!;
        const w = TraceField.Worker;
        const after = (f: number): number => median(rec.filter((x) => x[f]! > 0).map((x) => (x[f]! - x[TraceField.Post]!) * 1000));
        const row: ProbeRow = {
          shape: `${m}x${k}x${n}`,
          gapUs,
          variant: v.name,
          ms: median(times[vi]!),
          ...(rec.length
            ? {
                wakeUs: after(w + WorkerTraceField.Wake),
                firstClaimUs: after(w + WorkerTraceField.FirstClaim),
                workerEndUs: after(w + WorkerTraceField.End),
                callerEndUs: after(TraceField.CallerEnd),
                doneUs: after(TraceField.Done),
                callerParts: median(rec.map((x) => x[TraceField.CallerParts]!)),
                workerParts: median(rec.map((x) => x[w + WorkerTraceField.Parts]!)),
                callerPartUs: median(rec.map((x) => ((x[TraceField.CallerEnd]! - x[TraceField.Post]!) * 1000) / Math.max(1, x[TraceField.CallerParts]!))),
                workerPartUs: median(rec.filter((x) => x[w + WorkerTraceField.Parts]! > 0).map((x) => ((x[w + WorkerTraceField.End]! - x[w + WorkerTraceField.FirstClaim]!) * 1000) / x[w + WorkerTraceField.Parts]!)),
                missed: rec.filter((x) => x[w + WorkerTraceField.Parts] === 0).length / rec.length,
                callerWaitUs: median(rec.map((x) => (x[TraceField.Done]! - x[TraceField.CallerEnd]!) * 1000)),
                callerWaitP90Us: quantile(rec.map((x) => (x[TraceField.Done]! - x[TraceField.CallerEnd]!) * 1000), 0.9),
              }
            : {}),
        };
        rows.push(row);
        log(JSON.stringify(row));
      }
    }
  }
  await Promise.all(variants.map((v) => v.w.release()));
  return rows;
}

(globalThis as { poolProbe?: Promise<ProbeRow[] | { error: string }> }).poolProbe = main().catch((e: unknown) => ({ error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }));
