import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData, type DataType, type TensorData } from '../../core/dtype.ts';
import { coalesce, stridedCopy } from '../common/strided.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { asBatchedSwap, inferPermute, PERMUTE_OPS, permutedView, walk, type PermuteOp } from './op.ts';

type Cells = { [i: number]: number | bigint | string; readonly length: number };
const BLOCK = 32;

/** CPU [B, R, C] -> [B, C, R] in 32x32 blocks, so both sides stay in cache. */
function blockedSwap(src: TensorData, batch: number, rows: number, cols: number, dtype: DataType): TensorData {
  const data = allocData(dtype, batch * rows * cols);
  const o: Cells = data;
  const s: Cells = src;
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK);
      for (let c0 = 0; c0 < cols; c0 += BLOCK) {
        const c1 = Math.min(cols, c0 + BLOCK);
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) o[base + c * rows + r] = s[base + r * cols + c]!;
      }
    }
  }
  return data;
}

/** A row/column swap goes through cache blocks; any other walk is coalesced and copied by offset tables. */
function permute(op: PermuteOp): CpuKernel {
  return (inputs, ctx): AnyTensor[] => {
    const x = inputs[0]!;
    const meta = metaOf(x);
    const [out] = inferPermute(op, [meta], ctx);
    const w = walk(permutedView(op, meta, ctx));
    const swap = asBatchedSwap(w.dims, w.strides);
    if (swap) return [new Tensor(x.type, blockedSwap(x.data, ...swap, x.type), out!.dims)];
    const c = coalesce(w.dims, w.strides);
    return [stridedCopy(x, c.dims, c.strides, 0, out!.dims)];
  };
}

export const js: ImplementationTable<CpuKernel> = Object.fromEntries(PERMUTE_OPS.map((op) => [opKey('', op), permute(op)]));
