import { coalesce } from '../common/strided.ts';
import type { WasmStep } from './contract.ts';
import { singleExportStep } from './single-export-step.ts';

/**
 * 4-byte words per element of the dtypes the 32-bit copies move: float32 and int32 one, int64 two
 * (an element is then a trailing axis of 2 contiguous words); undefined for the others.
 */
export function wordsPerElement(dtype: string): number | undefined {
  return dtype === 'float32' || dtype === 'int32' ? 1 : dtype === 'int64' ? 2 : undefined;
}

/**
 * How Concat and Split copy rows of `dtype`: in 4-byte words (kiln_copy_rows_f32; `perElement`
 * words each) or in bytes (kiln_copy_rows_u8, 1-byte dtypes); undefined for other dtypes.
 */
export function rowCopyOf(dtype: string): { readonly kernel: string; readonly perElement: number; readonly unitBytes: number } | undefined {
  if (isByteType(dtype)) return { kernel: 'kiln_copy_rows_u8', perElement: 1, unitBytes: 1 };
  const w = wordsPerElement(dtype);
  return w === undefined ? undefined : { kernel: 'kiln_copy_rows_f32', perElement: w, unitBytes: 4 };
}

/** 1-byte dtypes: kiln_strided_copy_u8 and kiln_copy_rows_u8 move them. */
export const isByteType = (dtype: string): boolean => dtype === 'uint8' || dtype === 'int8' || dtype === 'bool';

/** stridedCopyStep over elements of `dtype` (element strides and base), or undefined for a dtype it cannot move. */
export function stridedCopyStepOf(dtype: string, dims: readonly number[], strides: readonly number[], base: number, outputEmpty: boolean): WasmStep | undefined {
  if (isByteType(dtype)) return stridedCopyStep(dims, strides, base, outputEmpty, 'kiln_strided_copy_u8', 1);
  const w = wordsPerElement(dtype);
  if (w === undefined) return undefined;
  if (w === 1) return stridedCopyStep(dims, strides, base, outputEmpty);
  return stridedCopyStep([...dims, w], [...strides.map((s) => s * w), 1], base * w, outputEmpty);
}

/** kiln_transpose_f32's limit on axes left after merging (kernels/wasm/src/transpose.c). */
const MAX_RANK = 8;

/**
 * A step copying a strided view of input 0 (element strides per output axis, from element `base`)
 * into the contiguous output, through kiln_transpose_f32 (4-byte elements) or kiln_strided_copy_u8
 * (1-byte): Transpose-like ops, Slice, Expand, Tile. The merged walk goes into the step's
 * persistent memory once, at session start, as an i32 descriptor. Undefined when more axes than
 * the kernels take are left after merging.
 */
export function stridedCopyStep(dims: readonly number[], strides: readonly number[], base: number, outputEmpty: boolean, kernel = 'kiln_transpose_f32', bytes = 4): WasmStep | undefined {
  const c = coalesce(dims, strides);
  if (c.dims.length > MAX_RANK) return undefined;
  const desc = Int32Array.from([c.dims.length, ...c.dims, ...c.strides]);
  return singleExportStep(kernel, (at) => [at.inputs[0]! + base * bytes, at.outputs[0]!, at.persistent[0]!], { persistent: desc, empty: outputEmpty });
}
