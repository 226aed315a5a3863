import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { floatToHalf, halfToFloat } from '../../core/float16.ts';
import type { KernelContext, TensorMeta } from '../contract.ts';

/**
 * CPU references compute in JS numbers (float64). These helpers move between tensor storage and
 * number arrays: float16 bits decode to values, int64 to numbers (exact up to 2^53).
 */
export function toNumbers(t: AnyTensor): Float64Array {
  const out = new Float64Array(t.size);
  const d = t.data;
  if (t.type === 'float16') for (let i = 0; i < t.size; i++) out[i] = halfToFloat((d as Uint16Array)[i]!);
  else if (t.type === 'int64' || t.type === 'uint64') for (let i = 0; i < t.size; i++) out[i] = Number((d as BigInt64Array)[i]!);
  else if (t.type === 'string') fail('UNSUPPORTED_FEATURE', 'string tensors have no numeric value');
  else out.set(d as Float32Array);
  return out;
}

/** Builds a tensor of `dtype` from numbers, applying the type's conversion (truncation for ints). */
export function fromNumbers(dtype: DataType, dims: readonly number[], values: ArrayLike<number>): AnyTensor {
  const n = values.length;
  const out = allocData(dtype, n);
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < n; i++) (out as Uint16Array)[i] = floatToHalf(values[i]!);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(Math.trunc(finiteOrZero(values[i]!)));
      break;
    case 'uint64':
      for (let i = 0; i < n; i++) (out as BigUint64Array)[i] = BigInt.asUintN(64, BigInt(Math.trunc(finiteOrZero(values[i]!))));
      break;
    case 'bool':
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = values[i] ? 1 : 0;
      break;
    case 'string':
      return fail('UNSUPPORTED_FEATURE', 'cannot build a string tensor from numbers');
    default:
      // Typed-array assignment does float->int truncation and wrap-around like a C cast.
      for (let i = 0; i < n; i++) (out as Float32Array)[i] = values[i]!;
  }
  return new Tensor(dtype, out, dims);
}

function finiteOrZero(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

/** Integer values of a host input (shape, axes, pads, repeats...), as JS numbers. */
export function hostInts(ctx: KernelContext, slot: number): number[] | undefined {
  const t = ctx.host[slot];
  if (!t) return undefined;
  if (t.type === 'int64') return Array.from(t.data as BigInt64Array, (v) => clampBig(v));
  if (t.type === 'string') return fail('INVALID_GRAPH', `node '${ctx.node}': input #${slot} must be numeric`);
  return Array.from(toNumbers(t));
}

export function hostFloats(ctx: KernelContext, slot: number): number[] | undefined {
  const t = ctx.host[slot];
  return t ? Array.from(toNumbers(t)) : undefined;
}

// INT64_MAX/MIN mean "to the end" in Slice and friends; keep them as safe large numbers.
function clampBig(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}

export const metaOf = (t: AnyTensor): TensorMeta => ({ dtype: t.type, dims: t.dims });
