import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { halfToFloat } from '../../core/float16.ts';

/**
 * Reads single elements as numbers without converting the whole tensor (toNumbers does): for ops
 * that touch a few rows of a large table (embedding lookups: a 30522 x 768 vocabulary would be
 * copied to float64 on every run).
 */
export function elementReader(t: AnyTensor): (i: number) => number {
  const d = t.data;
  switch (t.type) {
    case 'float16':
      return (i) => halfToFloat((d as Uint16Array)[i]!);
    case 'int64':
    case 'uint64':
      return (i) => Number((d as BigInt64Array)[i]!);
    case 'string':
      return fail('UNSUPPORTED_FEATURE', 'string tensors have no numeric value');
    default:
      return (i) => (d as Float32Array)[i]!;
  }
}
