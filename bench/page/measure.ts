import { createBenchSession, type BenchSession, type RuntimeName } from './runtimes.ts';
import { randomInput, type Workload } from './workloads.ts';

export interface BenchResult {
  workload: string;
  runtime: RuntimeName;
  coldStartMs: number;
  warmP50Ms: number;
  warmP95Ms: number;
  gflops: number | undefined;
  maxError: number;
  runs: number;
  note: string;
  error?: string;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/**
 * Runs every runtime on one workload, interleaved (run i of each runtime back to back) so machine
 * drift hits all equally. Warm-up runs are excluded. Max error is measured against onnxruntime-web
 * wasm's output (a peer, not our own code), or the first runtime that ran when it is absent.
 */
export async function measureWorkload(w: Workload, runtimes: readonly RuntimeName[], warmup: number, runs: number, log: (s: string) => void): Promise<BenchResult[]> {
  const input = randomInput(w);
  const sessions = new Map<RuntimeName, { s: BenchSession; cold: number; first: Float32Array }>();
  const results: BenchResult[] = [];
  for (const rt of runtimes) {
    const t0 = performance.now();
    try {
      const s = await createBenchSession(rt, w.model, w.inputName, w.inputDims);
      const first = await s.run(input);
      sessions.set(rt, { s, cold: performance.now() - t0, first });
    } catch (e) {
      log(`${w.name} ${rt}: ${(e as Error).message}`);
      results.push({ workload: w.name, runtime: rt, coldStartMs: NaN, warmP50Ms: NaN, warmP95Ms: NaN, gflops: undefined, maxError: NaN, runs: 0, note: '', error: (e as Error).message });
    }
  }
  const reference = sessions.get('ort-wasm')?.first ?? [...sessions.values()][0]?.first;
  const times = new Map<RuntimeName, number[]>([...sessions.keys()].map((k) => [k, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [rt, { s }] of sessions) {
      const t0 = performance.now();
      await s.run(input);
      if (i >= warmup) times.get(rt)!.push(performance.now() - t0);
    }
  }
  for (const [rt, { s, cold, first }] of sessions) {
    const t = times.get(rt)!;
    const p50 = quantile(t, 0.5);
    let maxError = 0;
    if (reference) for (let i = 0; i < first.length; i++) maxError = Math.max(maxError, Math.abs(first[i]! - reference[i]!));
    results.push({ workload: w.name, runtime: rt, coldStartMs: cold, warmP50Ms: p50, warmP95Ms: quantile(t, 0.95), gflops: w.flops / (p50 * 1e6), maxError, runs: t.length, note: s.note });
    log(`${w.name} ${rt}: p50 ${p50.toFixed(2)} ms, ${(w.flops / (p50 * 1e6)).toFixed(2)} GFLOP/s`);
    await s.release();
  }
  return results;
}
