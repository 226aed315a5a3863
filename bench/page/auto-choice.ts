// What executionProviders: ['auto'] picks on this machine for each whole-model workload, with the
// median warm runs it measured per backend (the session's backendChoice). Issue 11 asks the bench to
// report it: on a software adapter the CPU should win, on a real GPU WebGPU for all but tiny models.
import type { MeasureEnv } from './measure.ts';
import type { Workload } from './workload.ts';

export interface AutoChoice {
  workload: string;
  /** the backend 'auto' kept, or undefined when creating the session failed */
  chosen?: string;
  reason?: string;
  /** median warm run per backend in ms, as 'auto' measured them */
  medianMs?: Record<string, number>;
  /** the input dims 'auto' measured at, and why a backend has no median */
  measuredDims?: Record<string, readonly number[]>;
  failures?: Record<string, string>;
  error?: string;
}

export async function measureAutoChoice(w: Workload, env: MeasureEnv): Promise<AutoChoice> {
  const src = w.kiln ?? w.onnx;
  try {
    const bytes = 'bytes' in src ? src.bytes : await env.load(src.url);
    const session = await env.kiln.create(bytes, { executionProviders: [{ name: 'auto', ...(env.wasmPaths ? { wasmPaths: env.wasmPaths } : {}) }] });
    try {
      const c = session.backendChoice;
      return {
        workload: w.name, chosen: c.chosen, reason: c.reason,
        ...(c.medianMs ? { medianMs: { ...c.medianMs } } : {}),
        ...(c.measuredDims ? { measuredDims: { ...c.measuredDims } } : {}),
        ...(c.failures ? { failures: { ...c.failures } } : {}),
      };
    } finally {
      await session.release();
    }
  } catch (e) {
    return { workload: w.name, error: (e as Error).message };
  }
}
