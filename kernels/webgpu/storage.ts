import type { DataType } from '../../core/dtype.ts';

export type WgslType = 'f32' | 'i32' | 'u32';

/**
 * How each tensor type lives in a GPU buffer. Narrow types widen to 32 bits: WGSL storage has no
 * 8/16-bit elements, and writes of packed bytes would need atomics. int64 narrows to i32 with a
 * range check at upload (backends/webgpu/transfer.ts). float16 widens to f32 until kernels grow
 * f16 variants for adapters with `shader-f16`. Types without an entry run on the CPU backend.
 */
const STORAGE: Partial<Record<DataType, WgslType>> = {
  float32: 'f32',
  float16: 'f32',
  int32: 'i32',
  int64: 'i32',
  int8: 'i32',
  int16: 'i32',
  int4: 'i32',
  uint32: 'u32',
  uint8: 'u32',
  uint16: 'u32',
  uint4: 'u32',
  bool: 'u32',
};

export function storageType(dtype: DataType): WgslType | undefined {
  return STORAGE[dtype];
}

export const BYTES_PER_GPU_ELEMENT = 4;

/** Values per 32-bit word when a constant of this type is stored packed on the GPU (else undefined). */
export function packedPerWord(dtype: DataType): number | undefined {
  switch (dtype) {
    case 'int8': case 'uint8': return 4;
    case 'int4': case 'uint4': return 8;
    default: return undefined;
  }
}
