// `?profile`: per-dispatch timings of the WebGPU runtimes on the chosen workloads (see dispatch-profile.ts).
import { recordDispatches, replayDispatches, type DispatchProfile } from './dispatch-profile.ts';
import type { MeasureEnv } from './measure.ts';
import { createBenchSession, type RuntimeName } from './runtimes.ts';
import { workloadInput } from './workloads.ts';
import type { Workload } from './workload.ts';

export interface ProfileResult extends DispatchProfile {
  readonly workload: string;
  readonly runtime: RuntimeName;
  /** median of 3 whole warm runs (upload, dispatches, readback), for comparison with kernelMs */
  readonly runMs: number;
  readonly error?: string;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function profileWorkloads(workloads: readonly Workload[], runtimes: readonly RuntimeName[], env: MeasureEnv, log: (s: string) => void): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];
  for (const w of workloads) {
    for (const rt of runtimes.filter((r) => r.endsWith('webgpu'))) {
      if (rt === 'tfjs-webgpu' && typeof w.tfjs !== 'function') continue;
      try {
        const { session } = await createBenchSession(rt, w, env);
        try {
          const feed = session.feed(workloadInput(w, 1), w.inputDims(1));
          await session.run(feed);
          await session.run(feed);
          const runs: number[] = [];
          for (let i = 0; i < 3; i++) {
            const t0 = performance.now();
            await session.run(feed);
            runs.push(performance.now() - t0);
          }
          const recorded = await recordDispatches(() => session.run(feed));
          const p = await replayDispatches(recorded);
          out.push({ workload: w.name, runtime: rt, runMs: median(runs), ...p });
          log(`${w.name} ${rt}: run ${median(runs).toFixed(1)} ms, ${p.dispatches} dispatches, kernels ${p.kernelMs.toFixed(1)} ms; top: ${p.byOp.slice(0, 4).map((k) => `${k.label} ${k.ms.toFixed(1)}`).join(', ')}`);
        } finally {
          await session.release();
        }
      } catch (e) {
        out.push({ workload: w.name, runtime: rt, runMs: NaN, dispatches: 0, kernelMs: 0, emptySubmitMs: 0, byLabel: [], byOp: [], error: (e as Error).message });
      }
    }
  }
  return out;
}
