import type { AnyTensor } from '../../core/tensor.ts';
import { stridedCopy } from '../common/strided.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { sliceView } from './op.ts';

/** The slice's affine view copied through per-axis offset tables (contiguous runs by memcpy). */
const slice: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const x = inputs[0]!;
  const v = sliceView(metaOf(x), ctx);
  return [stridedCopy(x, v.dims, v.strides, v.base)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Slice')]: slice };
