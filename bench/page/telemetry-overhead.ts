// What Kiln's telemetry costs a run: the same model in two Kiln sessions, telemetry off and on
// (latency sketches, plus drift sketches where the bundle carries a drift reference; no endpoint,
// so nothing is sent), runs interleaved. Asked for by the telemetry part (M).
import { Tensor } from '../../core/tensor.ts';
import type { MeasureEnv } from './measure.ts';
import { quantile } from './measure.ts';
import { workloadInput } from './workloads.ts';
import type { Workload } from './workload.ts';

export interface TelemetryOverhead {
  workload: string;
  runtime: 'kiln-webgpu' | 'kiln-wasm';
  p50OffMs: number;
  p50OnMs: number;
  /** (on - off) / off, in percent; within noise it can be negative */
  overheadPct: number;
  runs: number;
  error?: string;
}

export async function measureTelemetryOverhead(w: Workload, runtime: 'kiln-webgpu' | 'kiln-wasm', env: MeasureEnv, runs: number): Promise<TelemetryOverhead> {
  const src = w.kiln ?? w.onnx;
  const bytes = 'bytes' in src ? src.bytes : await env.load(src.url);
  const ep = runtime === 'kiln-webgpu' ? 'webgpu' : { name: 'wasm' as const, ...(env.wasmPaths ? { wasmPaths: env.wasmPaths } : {}) };
  const off = await env.kiln.create(bytes, { executionProviders: [ep], telemetry: false });
  const on = await env.kiln.create(bytes, { executionProviders: [ep], telemetry: {} });
  try {
    const dims = w.inputDims(1);
    const x = workloadInput(w, 1);
    // A fresh Tensor each run: a session may take ownership of what it is fed (worker transfers).
    const feed = (): Record<string, Tensor> => ({ [w.inputName]: new Tensor('float32', x.slice(), dims) });
    await off.run(feed());
    await on.run(feed());
    const t = { off: [] as number[], on: [] as number[] };
    for (let i = 0; i < runs; i++) {
      for (const [k, s] of [['off', off], ['on', on]] as const) {
        const f = feed();
        const t0 = performance.now();
        await s.run(f);
        t[k].push(performance.now() - t0);
      }
    }
    const p50OffMs = quantile(t.off, 0.5);
    const p50OnMs = quantile(t.on, 0.5);
    return { workload: w.name, runtime, p50OffMs, p50OnMs, overheadPct: ((p50OnMs - p50OffMs) / p50OffMs) * 100, runs };
  } finally {
    await off.release();
    await on.release();
  }
}
