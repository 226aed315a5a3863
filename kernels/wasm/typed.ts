// What the wasm backend's arena holds besides float32, and the descriptors the kernels on those
// tensors read (kernels/wasm/src/typed.h: keep the codes in step).
import type { DataType } from '../../core/dtype.ts';

/**
 * Bytes per element of every dtype a tensor in wasm memory may have. int64 stays 8 bytes, as
 * onnxruntime keeps it. float16 (IEEE half bits) is there for Cast and views only: kernels that
 * move elements by size (Gather, Where) take 1, 4 or 8 bytes and decline it.
 */
export const ARENA_DTYPE_BYTES: Readonly<Partial<Record<DataType, number>>> = { float32: 4, int32: 4, int64: 8, int8: 1, uint8: 1, bool: 1, float16: 2 };

/** typed.h's T_* codes of the types compare.c handles */
export const DTYPE_CODE: Readonly<Partial<Record<DataType, number>>> = { float32: 0, int32: 1, int64: 2, uint8: 3, int8: 4, bool: 5 };

/** cast.c's: DTYPE_CODE and float16 */
export const CAST_CODE: Readonly<Partial<Record<DataType, number>>> = { ...DTYPE_CODE, float16: 6 };

/** typed.h's BMAX: axes a walk may keep after merging */
const MAX_RANK = 8;

/**
 * The broadcast walk of typed.h's BWALK: the output's dims and each operand's element strides along
 * them (0 where it broadcasts), adjacent axes merged where every operand allows it and size-1 axes
 * dropped; [rank, dims, strides of operand 0, 1, 2]. Undefined when more than MAX_RANK axes remain.
 */
export function broadcastWalk(out: readonly number[], operands: readonly (readonly number[])[]): Int32Array | undefined {
  const rank = out.length;
  const strides = operands.map((dims) => {
    const padded = [...Array<number>(rank - dims.length).fill(1), ...dims];
    const s = new Array<number>(rank).fill(0);
    for (let d = rank - 1, run = 1; d >= 0; d--) {
      s[d] = padded[d] === 1 ? 0 : run;
      run *= padded[d]!;
    }
    return s;
  });
  const dims: number[] = [];
  const kept: number[][] = operands.map(() => []);
  for (let d = 0; d < rank; d++) {
    const n = out[d]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => kept[k]![last] === s[d]! * n)) {
      dims[last]! *= n;
      strides.forEach((s, k) => (kept[k]![last] = s[d]!));
    } else {
      dims.push(n);
      strides.forEach((s, k) => kept[k]!.push(s[d]!));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    kept.forEach((k) => k.push(0));
  }
  if (dims.length > MAX_RANK) return undefined;
  const three = [0, 1, 2].map((k) => kept[k] ?? new Array<number>(dims.length).fill(0));
  return Int32Array.from([dims.length, ...dims, ...three.flat()]);
}
