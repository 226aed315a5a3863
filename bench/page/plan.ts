// What one bench run measures, shared by the browser page and the Node path.
import { measureAutoChoice, type AutoChoice } from './auto-choice.ts';
import { ocrWorkloads, trainedWorkloads, type DescribeInput } from './file-workloads.ts';
import { measureWorkload, type BenchResult, type MeasureEnv, type MeasureOptions, type References } from './measure.ts';
import type { RuntimeName } from './runtimes.ts';
import { measureTelemetryOverhead, type TelemetryOverhead } from './telemetry-overhead.ts';
import { BERT_SMALL, BERT_TINY, encoderWorkload } from './transformer.ts';
import { countWorkers } from './worker-census.ts';
import { microWorkloads } from './workloads.ts';
import type { Workload } from './workload.ts';

export const TRAINED_MODELS_DIR = '/demo/models/';

/** quick: proves the bench works in CI (small inputs, few runs); full: the committed results. */
export function measureOptions(quick: boolean, log: (s: string) => void): MeasureOptions {
  return quick
    ? { warmup: 1, warmupBudgetMs: 0, minRuns: 3, maxRuns: 3, budgetMs: 0, batch32BudgetMs: 0, log }
    : { warmup: 12, warmupBudgetMs: 1_000, minRuns: 5, maxRuns: 25, budgetMs: 10_000, batch32BudgetMs: 6_000, log };
}

export async function workloadsFor(quick: boolean, trainedFiles: readonly string[], env: MeasureEnv, describe: DescribeInput, log: (s: string) => void): Promise<Workload[]> {
  const trained = await trainedWorkloads(TRAINED_MODELS_DIR, trainedFiles, (u) => env.load(u), describe, log);
  // Float variants first: quantized ones are measured against their outputs.
  trained.sort((a, b) => Number(a.floatReference !== undefined) - Number(b.floatReference !== undefined));
  return [...microWorkloads(quick), ...trained, encoderWorkload(quick ? BERT_TINY : BERT_SMALL), ...ocrWorkloads(quick)];
}

export async function runBench(workloads: readonly Workload[], runtimes: readonly RuntimeName[], env: MeasureEnv, o: MeasureOptions, onResults?: (w: Workload, r: BenchResult[]) => void): Promise<{ results: BenchResult[]; telemetryOverhead: TelemetryOverhead[]; autoChoices: AutoChoice[] }> {
  const refs: References = new Map();
  const results: BenchResult[] = [];
  for (const w of workloads) {
    o.log(`— ${w.name}`);
    const r = await measureWorkload(w, runtimes, env, refs, o);
    results.push(...r);
    onResults?.(w, r);
  }
  // Telemetry on vs off, on the whole-model workloads Kiln ran.
  const telemetryOverhead: TelemetryOverhead[] = [];
  for (const w of workloads.filter((x) => x.kind === 'model')) {
    for (const rt of (['kiln-webgpu', 'kiln-wasm'] as const).filter((k) => runtimes.includes(k))) {
      if (!results.some((x) => x.workload === w.name && x.runtime === rt && x.status === 'ok')) continue;
      const t = await countWorkers(`${rt} telemetry`, () => measureTelemetryOverhead(w, rt, env, o.maxRuns > 3 ? 15 : 3)).catch((e: unknown) => ({ workload: w.name, runtime: rt, p50OffMs: NaN, p50OnMs: NaN, overheadPct: NaN, runs: 0, error: (e as Error).message }));
      o.log(`${w.name} ${rt}: telemetry off ${t.p50OffMs.toFixed(2)} ms, on ${t.p50OnMs.toFixed(2)} ms (${t.overheadPct.toFixed(1)}%)${t.error ? ` ${t.error}` : ''}`);
      telemetryOverhead.push(t);
    }
  }
  // What executionProviders: ['auto'] picks here, per whole-model workload (when both backends are benched).
  const autoChoices: AutoChoice[] = [];
  // It measures both backends itself, so a CPU-only run reports it too (the CPU table sits beside it).
  if (runtimes.includes('kiln-wasm')) {
    for (const w of workloads.filter((x) => x.kind === 'model')) {
      const c = await countWorkers('kiln auto', () => measureAutoChoice(w, env));
      o.log(`${w.name} auto: ${c.chosen ?? c.error} ${JSON.stringify(c.medianMs ?? {})}`);
      autoChoices.push(c);
    }
  }
  return { results, telemetryOverhead, autoChoices };
}
