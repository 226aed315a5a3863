// Runs a WriterModel over feeds with a Kiln session (CPU by default: exact and available everywhere)
// and compares outputs: the measurements behind calibration, the sensitivity report and the table.
import type { AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { toNumbers } from '../../kernels/common/values.ts';
import type { Feed } from './calibration-data.ts';

export type Outputs = Record<string, AnyTensor>;

export async function runModel(model: WriterModel, samples: readonly Feed[], options: { backend?: 'cpu' | 'webgpu'; fetch?: readonly string[]; onSample?: (i: number, out: Outputs) => void } = {}): Promise<Outputs[]> {
  const withFetch: WriterModel = options.fetch ? { ...model, outputs: [...model.outputs, ...options.fetch.filter((n) => !model.outputs.some((o) => o.name === n)).map((name) => ({ name, dtype: 'float32' as const }))] } : model;
  const session = await InferenceSession.create(encodeOnnxModel(withFetch), { executionProviders: [options.backend ?? 'cpu'] });
  const keep = new Set(model.outputs.map((o) => o.name));
  const results: Outputs[] = [];
  try {
    for (let i = 0; i < samples.length; i++) {
      const out = await session.run(samples[i]!);
      options.onSample?.(i, out);
      results.push(Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k))));
    }
  } finally {
    await session.release();
  }
  return results;
}

export interface OutputError {
  readonly maxAbs: number;
  readonly meanAbs: number;
  /** argmax over the last axis agrees (outputs whose last dim > 1), as a fraction of rows */
  readonly top1: number | undefined;
}

export function outputError(reference: readonly Outputs[], got: readonly Outputs[]): OutputError {
  let maxAbs = 0;
  let sum = 0;
  let count = 0;
  let rows = 0;
  let agree = 0;
  reference.forEach((ref, s) => {
    for (const [name, want] of Object.entries(ref)) {
      const w = toNumbers(want);
      const g = toNumbers(got[s]![name]!);
      for (let i = 0; i < w.length; i++) {
        const d = Math.abs(w[i]! - g[i]!);
        maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
        sum += d;
      }
      count += w.length;
      const last = want.dims[want.dims.length - 1] ?? 1;
      if (want.dims.length >= 2 && last > 1) {
        for (let r = 0; r < w.length / last; r++) {
          rows++;
          if (argmax(w, r * last, last) === argmax(g, r * last, last)) agree++;
        }
      }
    }
  });
  return { maxAbs, meanAbs: count ? sum / count : 0, top1: rows ? agree / rows : undefined };
}

function argmax(v: Float64Array, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[off + i]! > v[off + best]!) best = i;
  return best;
}
