// Measures every runtime on one workload: cold start (fetch / create / first run), warm latency
// over interleaved runs, throughput at batch 1 and 32, peak GPU buffer bytes, download size and
// error against the float reference.
import { chargeGpuBuffers, peakGpuBytes } from './gpu-memory.ts';
import { countWakes, countWorkers, wakesCounted } from './worker-census.ts';
import { createBenchSession, type BenchSession, type RuntimeHost, type RuntimeName } from './runtimes.ts';
import { workloadInput } from './workloads.ts';
import type { Workload } from './workload.ts';

export interface BenchResult {
  workload: string;
  runtime: RuntimeName;
  /** ok: measured; n/a: this runtime cannot run this workload (note says why); error: it failed */
  status: 'ok' | 'n/a' | 'error';
  coldStartMs: number | null;
  warmP50Ms: number | null;
  warmP95Ms: number | null;
  /** gzip bytes: runtime code (JS + wasm) + model */
  bytesDownloaded: number | null;
  /** max |output - float reference| over the first output */
  maxError: number | null;
  /** max |reference output|: the scale maxError is read against */
  referenceMaxAbs: number | null;
  fetchMs: number | null;
  createMs: number | null;
  firstRunMs: number | null;
  /** inferences per second at batch 1 (1000 / warm p50) and batch 32 */
  throughputBatch1: number | null;
  throughputBatch32: number | null;
  peakGpuBytes: number | null;
  runtimeBytes: number | null;
  modelBytes: number | null;
  gflops: number | null;
  runs: number;
  /** the warm latencies, for the page's distribution charts */
  samplesMs: number[];
  reference: string;
  note: string;
  /** kiln-wasm rows: Atomics.notify calls per warm run, i.e. thread-pool dispatches (absent in older reports) */
  wakesPerRun?: number;
}

export interface MeasureOptions {
  /**
   * Warm-up runs per runtime, back to back before the interleaved timed runs: at least one, at most
   * `warmup`, stopping once they add up to warmupBudgetMs. Back to back so a runtime that adapts
   * while warming up (Kiln's split choice, JIT tier-up) adapts to its own runs, not to a peer's
   * threads still spinning after the peer's run.
   */
  readonly warmup: number;
  readonly warmupBudgetMs: number;
  readonly maxRuns: number;
  readonly minRuns: number;
  /** a runtime stops sampling once its warm runs add up to this (after minRuns) */
  readonly budgetMs: number;
  /** batch-32 runs happen where 32 x batch-1 p50 fits this; 0 = never */
  readonly batch32BudgetMs: number;
  readonly log: (s: string) => void;
}

export interface MeasureEnv extends RuntimeHost {
  /** gzip size of bytes */
  gzipSize(bytes: Uint8Array): Promise<number>;
  /** gzip size of the runtime's code (JS + wasm) as a page downloads it */
  runtimeBytes(runtime: RuntimeName): number | undefined;
}

/** Float reference outputs by input key, so quantized variants are measured against their float model. */
export type References = Map<string, { runtime: string; output: Float32Array }>;

export const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const empty = (w: Workload, runtime: RuntimeName, status: 'n/a' | 'error', note: string): BenchResult => ({
  workload: w.name, runtime, status, coldStartMs: null, warmP50Ms: null, warmP95Ms: null, bytesDownloaded: null, maxError: null, referenceMaxAbs: null,
  fetchMs: null, createMs: null, firstRunMs: null, throughputBatch1: null, throughputBatch32: null, peakGpuBytes: null,
  runtimeBytes: null, modelBytes: null, gflops: null, runs: 0, samplesMs: [], reference: '', note,
});

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);

interface Live {
  readonly s: BenchSession;
  readonly row: BenchResult;
  readonly first: Float32Array;
  readonly times: number[];
  readonly key: string;
}

/** GPU buffers created while fn runs are charged to the (workload, runtime) key, Workers started to the runtime. */
const charge = <T>(key: string, runtime: RuntimeName, fn: () => Promise<T>): Promise<T> => countWorkers(runtime, () => chargeGpuBuffers(key, fn));

async function modelGzipBytes(w: Workload, runtime: RuntimeName, env: MeasureEnv): Promise<number> {
  const src = runtime.startsWith('kiln') && w.kiln ? w.kiln : w.onnx;
  // TF.js gets the same float32 weights; its weights file would be the same bytes as the ONNX
  // initializers, so the ONNX size stands in for it.
  return env.gzipSize('bytes' in src ? src.bytes : await env.load(src.url));
}

/**
 * Runs every runtime on one workload, interleaved (run i of each runtime back to back) so machine
 * drift hits all equally. Warm-up runs are excluded.
 */
export async function measureWorkload(w: Workload, runtimes: readonly RuntimeName[], env: MeasureEnv, refs: References, o: MeasureOptions): Promise<BenchResult[]> {
  const dims1 = w.inputDims(1);
  const input = workloadInput(w, 1);
  const live: Live[] = [];
  const results: BenchResult[] = [];
  for (const rt of runtimes) {
    if (rt.startsWith('tfjs') && typeof w.tfjs !== 'function') {
      results.push(empty(w, rt, 'n/a', w.tfjs.unavailable));
      continue;
    }
    const key = `${w.name}|${rt}`;
    try {
      const { session: s, fetchMs, createMs } = await charge(key, rt, () => createBenchSession(rt, w, env));
      const feed = s.feed(input, dims1);
      const t0 = performance.now();
      const first = s.toOnnxLayout(await charge(key, rt, () => s.run(feed)));
      const firstRunMs = performance.now() - t0;
      const runtimeBytes = env.runtimeBytes(rt) ?? null;
      const modelBytes = await modelGzipBytes(w, rt, env);
      const row: BenchResult = {
        ...empty(w, rt, 'error', ''), status: 'ok', fetchMs, createMs, firstRunMs, coldStartMs: fetchMs + createMs + firstRunMs,
        runtimeBytes, modelBytes, bytesDownloaded: runtimeBytes === null ? null : runtimeBytes + modelBytes,
      };
      live.push({ s, row, first: Float32Array.from(first), times: [], key });
      o.log(`${w.name} ${rt}: cold ${row.coldStartMs!.toFixed(0)} ms (fetch ${fetchMs.toFixed(0)}, create ${createMs.toFixed(0)}, first run ${firstRunMs.toFixed(0)})`);
    } catch (e) {
      const na = env.unavailable(rt);
      o.log(`${w.name} ${rt}: ${message(e)}`);
      results.push(empty(w, rt, na ? 'n/a' : 'error', message(e)));
    }
  }

  // Warm-up, each runtime on its own; then warm runs, interleaved; each runtime stops once its budget is spent (after minRuns). Each timed
  // run follows an untimed run of the same runtime, so it meets its own steady state (its threads
  // awake or asleep as its own last run left them) and not a peer's: a peer's thread pool still
  // spinning after its run took the second core from the next runtime's workers (docs/bench.md).
  const feeds = new Map(live.map((l) => [l, l.s.feed(input, dims1)]));
  const failed = new Set<Live>();
  for (const l of live) {
    const t0 = performance.now();
    try {
      for (let i = 0; i < o.warmup && (i === 0 || performance.now() - t0 < o.warmupBudgetMs); i++) await charge(l.key, l.row.runtime, () => l.s.run(feeds.get(l)!));
    } catch (e) {
      failed.add(l);
      Object.assign(l.row, { status: 'error', note: `warm-up run failed: ${message(e)}` });
    }
  }
  for (let i = 0; i < o.maxRuns; i++) {
    const active = live.filter((l) => !failed.has(l) && (l.times.length < o.minRuns || l.times.reduce((a, b) => a + b, 0) < o.budgetMs));
    if (active.length === 0) break;
    for (const l of active) {
      try {
        const run = (): Promise<unknown> => charge(l.key, l.row.runtime, () => l.s.run(feeds.get(l)!));
        if (active.length > 1) await run();
        const t0 = performance.now();
        await countWakes(l.key, run);
        l.times.push(performance.now() - t0);
      } catch (e) {
        failed.add(l);
        Object.assign(l.row, { status: 'error', note: `warm run failed: ${message(e)}` });
      }
    }
  }

  // Batch 32 where it fits the budget.
  const batch32 = o.batch32BudgetMs > 0 && w.batchable ? live.filter((l) => !failed.has(l) && l.times.length > 0 && 32 * quantile(l.times, 0.5) <= o.batch32BudgetMs) : [];
  const b32times = new Map<Live, number[]>(batch32.map((l) => [l, []]));
  if (batch32.length > 0) {
    const x32 = workloadInput(w, 32);
    const f32 = new Map(batch32.map((l) => [l, l.s.feed(x32, w.inputDims(32))]));
    for (let i = 0; i < 4; i++) {
      for (const l of batch32) {
        if (failed.has(l)) continue;
        try {
          const t0 = performance.now();
          await charge(l.key, l.row.runtime, () => l.s.run(f32.get(l)!));
          if (i > 0) b32times.get(l)!.push(performance.now() - t0);
        } catch (e) {
          b32times.delete(l);
          o.log(`${w.name} ${l.row.runtime} batch 32: ${message(e)}`);
        }
      }
    }
  }

  // The float reference: this workload's (or its float variant's) onnxruntime-web wasm output,
  // else Kiln CPU's; a peer's output, not the runtime under test, wherever ort-wasm ran.
  const refKey = w.floatReference ?? w.name;
  if (!w.floatReference) {
    const ref = live.find((l) => l.row.runtime === 'ort-wasm') ?? live.find((l) => l.row.runtime === 'kiln-js') ?? live[0];
    // A quantized model without a float variant beside it can only be compared with a peer running it.
    const what = /int[48]/.test(w.name) ? ' (same quantized model: no float variant found)' : '';
    if (ref) refs.set(refKey, { runtime: `${ref.row.runtime} on ${w.name}${what}`, output: ref.first });
  }
  const ref = refs.get(refKey);
  for (const l of live) {
    const t = l.times;
    const r = l.row;
    if (r.status === 'ok' && t.length > 0) {
      r.warmP50Ms = quantile(t, 0.5);
      r.warmP95Ms = quantile(t, 0.95);
      r.throughputBatch1 = 1000 / r.warmP50Ms;
      r.gflops = w.flops ? w.flops / (r.warmP50Ms * 1e6) : null;
    }
    r.runs = t.length;
    if (t.length > 0 && r.runtime.startsWith('kiln-wasm')) r.wakesPerRun = wakesCounted(l.key) / t.length;
    r.samplesMs = t.map((v) => Math.round(v * 1000) / 1000);
    const b = b32times.get(l);
    if (b && b.length > 0) r.throughputBatch32 = (32 * 1000) / quantile(b, 0.5);
    else if (w.batchable && o.batch32BudgetMs > 0 && r.status === 'ok') r.note = [r.note, `batch 32 skipped (32 x p50 > ${o.batch32BudgetMs / 1000} s)`].filter(Boolean).join('; ');
    if (ref && ref.output.length === l.first.length) {
      let m = 0;
      for (let i = 0; i < l.first.length; i++) m = Math.max(m, Math.abs(l.first[i]! - ref.output[i]!));
      r.maxError = m;
      r.referenceMaxAbs = ref.output.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      r.reference = ref.runtime;
    } else if (ref) r.note = [r.note, `output has ${l.first.length} values, reference ${ref.output.length}`].join('; ');
    r.peakGpuBytes = r.runtime.endsWith('webgpu') ? (peakGpuBytes(l.key) ?? null) : null;
    r.note = [l.s.note, r.note].filter(Boolean).join('; ');
    results.push(r);
    if (r.warmP50Ms !== null) o.log(`${w.name} ${r.runtime}: p50 ${r.warmP50Ms.toFixed(2)} ms p95 ${r.warmP95Ms!.toFixed(2)} ms (${t.length} runs)${r.throughputBatch32 ? `, batch 32 ${r.throughputBatch32.toFixed(1)}/s` : ''}`);
    await l.s.release().catch((e: unknown) => o.log(`${w.name} ${r.runtime}: release failed: ${message(e)}`));
  }
  const order = new Map(runtimes.map((rt, i) => [rt, i]));
  return results.sort((a, b) => order.get(a.runtime)! - order.get(b.runtime)!);
}
