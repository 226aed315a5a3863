import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { allocData } from '../../core/dtype.ts';
import { product } from './shape.ts';

type Cells = { [i: number]: number | bigint | string; readonly length: number };

/**
 * The plain form of the data-movement ops, for their references: out[idx] = src[sourceOf(idx)] for
 * every output multi-index idx in row-major order (sourceOf returns a flat offset into src). One
 * call per element: slow, and obviously what the op means. The fast copies live in strided.ts.
 */
export function gatherEach(src: AnyTensor, outDims: readonly number[], sourceOf: (idx: readonly number[]) => number): AnyTensor {
  const n = product(outDims);
  const data = allocData(src.type, n);
  const o: Cells = data;
  const s: Cells = src.data;
  const idx = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < n; i++) {
    o[i] = s[sourceOf(idx)]!;
    for (let d = outDims.length - 1; d >= 0 && ++idx[d]! === outDims[d]!; d--) idx[d] = 0;
  }
  return new Tensor(src.type, data, outDims);
}
