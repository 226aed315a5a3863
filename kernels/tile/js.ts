import type { AnyTensor } from '../../core/tensor.ts';
import { stridedCopy } from '../common/strided.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { tileView } from './op.ts';

/** The rank-2n view copied through per-axis offset tables (each repeated row by memcpy). */
const tile: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const x = inputs[0]!;
  const v = tileView(metaOf(x), ctx);
  return [stridedCopy(x, v.dims, v.strides, 0, v.out)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Tile')]: tile };
