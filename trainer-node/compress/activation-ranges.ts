// Activation ranges for static quantization, gathered while the float model runs over the
// calibration samples. min-max keeps the extremes; percentile keeps a uniform random sample of each
// tensor's values (reservoir of RESERVOIR values) and cuts the tails at the given percentile, so one
// outlier pixel does not stretch the grid for every other value.
import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../../kernels/common/values.ts';

export type CalibrationMethod = 'minmax' | 'percentile';

const RESERVOIR = 1 << 16;

export class RangeCollector {
  private readonly stats = new Map<string, { min: number; max: number; seen: number; sample: Float32Array; filled: number }>();

  constructor(
    private readonly method: CalibrationMethod,
    private readonly percentile = 99.99,
    /** the reservoir's random source (injectable so a test's ranges replay from its seed) */
    private readonly random: () => number = Math.random,
  ) {}

  add(name: string, t: AnyTensor): void {
    const v = t.type === 'float32' ? (t.data as Float32Array) : toNumbers(t);
    let s = this.stats.get(name);
    if (!s) {
      s = { min: Infinity, max: -Infinity, seen: 0, sample: new Float32Array(this.method === 'percentile' ? RESERVOIR : 0), filled: 0 };
      this.stats.set(name, s);
    }
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
      if (this.method !== 'percentile') continue;
      s.seen++;
      if (s.filled < RESERVOIR) s.sample[s.filled++] = x;
      else {
        const j = Math.floor(this.random() * s.seen);
        if (j < RESERVOIR) s.sample[j] = x;
      }
    }
  }

  /** [lo, hi] for a tensor, widened to include 0 (so zero is exact on the grid, as padding needs). */
  range(name: string): [number, number] | undefined {
    const s = this.stats.get(name);
    if (!s || !Number.isFinite(s.min)) return undefined;
    let lo = s.min;
    let hi = s.max;
    if (this.method === 'percentile' && s.filled > 0) {
      const sorted = s.sample.slice(0, s.filled).sort();
      const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))]!;
      lo = at(100 - this.percentile);
      hi = at(this.percentile);
    }
    return [Math.min(lo, 0), Math.max(hi, 0)];
  }
}

/** uint8 asymmetric parameters for a range (onnxruntime's default activation scheme). */
export function uint8Params([lo, hi]: readonly [number, number]): { scale: number; zeroPoint: number } {
  const scale = Math.fround((hi - lo) / 255);
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}
