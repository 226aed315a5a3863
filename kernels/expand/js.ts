import type { AnyTensor } from '../../core/tensor.ts';
import { stridedCopy } from '../common/strided.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { expandView } from './op.ts';

/** The broadcast view copied through per-axis offset tables (contiguous runs by memcpy). */
const expand: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const x = inputs[0]!;
  const v = expandView(metaOf(x), ctx);
  return [stridedCopy(x, v.dims, v.strides)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Expand')]: expand };
