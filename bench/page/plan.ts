// What one bench run measures, shared by the browser page and the Node path.
import { ocrWorkloads, trainedWorkloads, type DescribeInput } from './file-workloads.ts';
import { measureWorkload, type BenchResult, type MeasureEnv, type MeasureOptions, type References } from './measure.ts';
import type { RuntimeName } from './runtimes.ts';
import { BERT_SMALL, BERT_TINY, encoderWorkload } from './transformer.ts';
import { microWorkloads } from './workloads.ts';
import type { Workload } from './workload.ts';

export const TRAINED_MODELS_DIR = '/demo/models/';

/** quick: proves the bench works in CI (small inputs, few runs); full: the committed results. */
export function measureOptions(quick: boolean, log: (s: string) => void): MeasureOptions {
  return quick
    ? { warmup: 1, minRuns: 3, maxRuns: 3, budgetMs: 0, batch32BudgetMs: 0, log }
    : { warmup: 1, minRuns: 5, maxRuns: 25, budgetMs: 10_000, batch32BudgetMs: 6_000, log };
}

export async function workloadsFor(quick: boolean, trainedFiles: readonly string[], env: MeasureEnv, describe: DescribeInput, log: (s: string) => void): Promise<Workload[]> {
  const trained = await trainedWorkloads(TRAINED_MODELS_DIR, trainedFiles, (u) => env.load(u), describe, log);
  // Float variants first: quantized ones are measured against their outputs.
  trained.sort((a, b) => Number(a.floatReference !== undefined) - Number(b.floatReference !== undefined));
  return [...microWorkloads(quick), ...trained, encoderWorkload(quick ? BERT_TINY : BERT_SMALL), ...ocrWorkloads(quick)];
}

export async function runBench(workloads: readonly Workload[], runtimes: readonly RuntimeName[], env: MeasureEnv, o: MeasureOptions, onResults?: (w: Workload, r: BenchResult[]) => void): Promise<BenchResult[]> {
  const refs: References = new Map();
  const results: BenchResult[] = [];
  for (const w of workloads) {
    o.log(`— ${w.name}`);
    const r = await measureWorkload(w, runtimes, env, refs, o);
    results.push(...r);
    onResults?.(w, r);
  }
  return results;
}
