// Reads any numeric tensor element as a JS number, so feature extraction works on every dtype a
// model may take or give (float16 arrives as raw half bits, int64 as bigint).
import type { DataType, TensorData } from '../../../core/dtype.ts';
import { halfToFloat } from '../../../core/float16.ts';

/** The part of a Tensor that drift code reads; a Kiln Tensor or an onnxruntime-web one fits. */
export interface TensorView {
  readonly type: DataType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export type ElementReader = (index: number) => number;

/** undefined for tensors whose elements are not numbers (strings). */
export function elementReader(tensor: TensorView): ElementReader | undefined {
  const data = tensor.data;
  if (tensor.type === 'string' || Array.isArray(data)) return undefined;
  if (tensor.type === 'float16') {
    const half = data as Uint16Array;
    return (i) => halfToFloat(half[i]!);
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return (i) => Number(data[i]!);
  const plain = data as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
  return (i) => plain[i]!;
}

/** Samples are laid along axis 0; a scalar is one sample. */
export function sampleCount(tensor: TensorView): number {
  return tensor.dims.length === 0 ? 1 : tensor.dims[0]!;
}

/** Elements per sample (the product of every axis after the first). */
export function sampleSize(tensor: TensorView): number {
  let n = 1;
  for (let i = 1; i < tensor.dims.length; i++) n *= tensor.dims[i]!;
  return n;
}
