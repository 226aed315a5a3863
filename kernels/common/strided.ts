import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData, type DataType, type TensorData } from '../../core/dtype.ts';
import { product } from './shape.ts';
import { fromNumbers } from './values.ts';

/**
 * Data movement shared by the shape ops (Transpose, Slice, Expand, Tile, Pad, DepthToSpace...).
 * Each is "output element = one input element (or a fill value)", so they share one CPU copier
 * driven by per-axis offset tables and one GPU strided-gather program (kernels/webgpu/strided-gather.ts).
 */

/** Row-major element strides of `dims` (the last axis has stride 1). */
export function rowMajorStrides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= dims[d]!;
  }
  return s;
}

/** Any tensor storage seen as indexable cells: lets one loop copy every dtype, strings included. */
type Cells = { [i: number]: number | bigint | string; readonly length: number };
type Cell = number | bigint | string;

type BigArray = BigInt64Array | BigUint64Array;
type NumberArray = Exclude<TensorData, string[] | BigArray>;
const isBig = (d: TensorData): d is BigArray => d instanceof BigInt64Array || d instanceof BigUint64Array;
const isNumber = (d: TensorData): d is NumberArray => !Array.isArray(d) && !isBig(d);

/** dst[dstOff .. +len] = src[srcOff .. +len] for two tensors of the same dtype (memcpy for long typed runs). */
export function copyCells(dst: TensorData, dstOff: number, src: TensorData, srcOff: number, len: number): void {
  // subarray() allocates a view: worth it only for runs longer than a few elements.
  if (len >= 32 && isNumber(dst) && isNumber(src)) dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  else if (len >= 32 && isBig(dst) && isBig(src)) dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  else {
    const o: Cells = dst;
    const i: Cells = src;
    for (let k = 0; k < len; k++) o[dstOff + k] = i[srcOff + k]!;
  }
}

/** The stored form of `value` for `dtype` (half bits for float16, bigint for int64...). */
export function cellValue(dtype: DataType, value: number | string): Cell {
  if (typeof value === 'string') return value;
  const data: Cells = fromNumbers(dtype, [1], [value]).data;
  return data[0]!;
}

/** A tensor of `dims` whose stored cells all equal `fill` (already in stored form). */
export function filled(dtype: DataType, dims: readonly number[], fill: Cell): AnyTensor {
  const data = allocData(dtype, product(dims));
  const cells: Cells = data;
  for (let i = 0; i < cells.length; i++) cells[i] = fill;
  return new Tensor(dtype, data, dims);
}

/** Table entry meaning "this index reads no input element: write the fill value". */
export const FILL = -0x80000000;

/**
 * out[i0..ik] = src[Σ_d tables[d][i_d]], or `fill` when any table entry is FILL. One table per
 * output axis, one entry per output index: the offset that index contributes (may be negative).
 */
export function gatherByTables(src: AnyTensor, outDims: readonly number[], tables: readonly Int32Array[], fill: Cell = 0): AnyTensor {
  const n = product(outDims);
  const data = allocData(src.type, n);
  const o: Cells = data;
  const s: Cells = src.data;
  const rank = outDims.length;
  if (n > 0 && rank === 0) o[0] = s[0]!;
  if (n === 0 || rank === 0) return new Tensor(src.type, data, outDims);
  const inner = outDims[rank - 1]!;
  const last = tables[rank - 1]!;
  // The innermost axis often reads a contiguous run (slice, pad interior, expand, tile): memcpy it.
  let contiguous = true;
  for (let i = 0; i < inner && contiguous; i++) contiguous = last[i] !== FILL && last[i] === last[0]! + i;
  const idx = new Array<number>(rank).fill(0);
  let k = 0;
  for (let row = 0, rows = n / inner; row < rows; row++) {
    let base = 0;
    let valid = true;
    for (let d = 0; d < rank - 1; d++) {
      const t = tables[d]![idx[d]!]!;
      if (t === FILL) valid = false;
      base += t;
    }
    if (valid && contiguous) {
      copyCells(data, k, src.data, base + last[0]!, inner);
      k += inner;
    } else if (valid) {
      for (let i = 0; i < inner; i++) {
        const t = last[i]!;
        o[k++] = t === FILL ? fill : s[base + t]!;
      }
    } else for (let i = 0; i < inner; i++) o[k++] = fill;
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < outDims[d]!) break;
      idx[d] = 0;
    }
  }
  return new Tensor(src.type, data, outDims);
}

/** Tables for an affine view: output index i on axis d reads offset base(d=0 only) + i * strides[d]. */
export function affineTables(dims: readonly number[], strides: readonly number[], base = 0): Int32Array[] {
  return dims.map((n, d) => {
    const t = new Int32Array(n);
    for (let i = 0; i < n; i++) t[i] = i * strides[d]! + (d === 0 ? base : 0);
    return t;
  });
}

/** out = the affine view (dims, strides, base) of src; strides may be 0 (broadcast) or negative. */
export function stridedCopy(src: AnyTensor, dims: readonly number[], strides: readonly number[], base = 0, outDims: readonly number[] = dims): AnyTensor {
  if (dims.length === 0) return gatherByTables(src, [], []).reshape(outDims);
  return gatherByTables(src, dims, affineTables(dims, strides, base)).reshape(outDims);
}

/**
 * Merges adjacent axes that walk memory contiguously (stride[d] == stride[d+1] * dims[d+1]) and
 * drops size-1 axes, so most transposes, slices and broadcasts run at rank 1 to 3.
 */
export function coalesce(dims: readonly number[], strides: readonly number[]): { dims: number[]; strides: number[] } {
  const od: number[] = [];
  const os: number[] = [];
  dims.forEach((n, d) => {
    if (n === 1) return;
    const last = od.length - 1;
    if (last >= 0 && os[last] === strides[d]! * n) {
      od[last]! *= n;
      os[last] = strides[d]!;
    } else {
      od.push(n);
      os.push(strides[d]!);
    }
  });
  return { dims: od, strides: os };
}
