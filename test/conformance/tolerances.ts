import type { DataType } from '../../core/dtype.ts';
import { ONNX_TOLERANCE, type Tolerance } from '../helpers/compare.ts';

/**
 * Tolerances per output type. float16 results are computed in f32 then rounded, so they may differ
 * from the reference by one half-precision ulp (~1e-3 relative). Per-test overrides name the test
 * and say why.
 */
const FLOAT16: Tolerance = { rtol: 2e-3, atol: 1e-3 };

// The inverse DFT of arange(100): outputs up to ~50, where one f32 ulp is 3.8e-6; the expected
// file holds numpy's rounding noise (1.9e-7 where the exact value is 0), finer than f32 resolves.
const DFT_INVERSE: Tolerance = { rtol: 1e-3, atol: 1e-5 };

const PER_TEST: Record<string, Tolerance> = {
  test_dft_inverse: DFT_INVERSE,
  test_dft_inverse_opset19: DFT_INVERSE,
};

export function toleranceFor(test: string, dtype: DataType, _backend: string): Tolerance {
  return PER_TEST[test] ?? (dtype === 'float16' ? FLOAT16 : ONNX_TOLERANCE);
}
