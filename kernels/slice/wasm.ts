import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { stridedCopyStepOf } from '../wasm/strided-copy.ts';
import { sliceView } from './op.ts';

/** Slice (float32, int32, int64, 1-byte types) as the strided copy Transpose uses: the affine view (strides, negative steps included) from its base offset. */
const slice: WasmKernel = (inputs, outputs, ctx) => {
  const x = inputs[0];
  if (!x) return undefined;
  const v = sliceView(x, ctx);
  return stridedCopyStepOf(x.dtype, v.dims, v.strides, v.base, outputs[0]!.dims.includes(0));
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Slice')]: slice };
