import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { stridedCopyStepOf } from '../wasm/strided-copy.ts';
import { tileView } from './op.ts';

/**
 * Tile of float32, int32, int64 or 1-byte data with repeats known at plan time: tileView's rank-2n view
 * (stride 0 on every repeat axis) as the strided copy Expand and Slice use. More than 8 axes left
 * after merging, other dtypes and repeats only known at run time run js.
 */
const tile: WasmKernel = (inputs, outputs, ctx) => {
  const x = inputs[0];
  if (!x || ctx.host[1] === undefined) return undefined;
  const v = tileView(x, ctx);
  return stridedCopyStepOf(x.dtype, v.dims, v.strides, 0, outputs[0]!.dims.includes(0));
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Tile')]: tile };
