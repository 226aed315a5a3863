import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../../kernels/common/values.ts';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** ONNX backend-test defaults (onnx/backend/test/runner). */
export const ONNX_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-7 };

/** Returns undefined when equal within tolerance, else a message naming the first mismatch. */
export function compareTensors(got: AnyTensor, want: AnyTensor, tol: Tolerance = ONNX_TOLERANCE): string | undefined {
  if (got.type !== want.type) return `type ${got.type}, expected ${want.type}`;
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) return `shape [${got.dims}], expected [${want.dims}]`;
  if (want.type === 'string') {
    const g = got.data as string[];
    const w = want.data as string[];
    const i = w.findIndex((s, k) => s !== g[k]);
    return i < 0 ? undefined : `element ${i}: '${g[i]}', expected '${w[i]}'`;
  }
  if (want.type === 'int64' || want.type === 'uint64') {
    const g = got.data as BigInt64Array;
    const w = want.data as BigInt64Array;
    for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) return `element ${i}: ${g[i]}, expected ${w[i]}`;
    return undefined;
  }
  const g = toNumbers(got);
  const w = toNumbers(want);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    const excess = Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst < 0) return undefined;
  return `element ${worst} of ${w.length}: ${g[worst]}, expected ${w[worst]} (rtol ${tol.rtol}, atol ${tol.atol})`;
}

export function maxAbsDiff(a: AnyTensor, b: AnyTensor): number {
  const x = toNumbers(a);
  const y = toNumbers(b);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}
