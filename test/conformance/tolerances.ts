import type { DataType } from '../../core/dtype.ts';
import { ONNX_TOLERANCE, type Tolerance } from '../helpers/compare.ts';

/**
 * Tolerances per output type. float16 results are computed in f32 then rounded, so they may differ
 * from the reference by one half-precision ulp (~1e-3 relative). Per-test overrides name the test
 * and say why.
 */
const FLOAT16: Tolerance = { rtol: 2e-3, atol: 1e-3 };

const PER_TEST: Record<string, Tolerance> = {};

export function toleranceFor(test: string, dtype: DataType, _backend: string): Tolerance {
  return PER_TEST[test] ?? (dtype === 'float16' ? FLOAT16 : ONNX_TOLERANCE);
}
