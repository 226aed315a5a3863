import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { stridedCopyStepOf } from '../wasm/strided-copy.ts';
import { expandView } from './op.ts';

/**
 * Expand of float32, int32, int64 or 1-byte data with a shape known at plan time, as the strided copy Transpose and Slice
 * use: stride 0 on the broadcast axes (merged with their neighbours where they line up), so a
 * graph that expands between two wasm ops keeps its data in the arena instead of a js copy.
 */
const expand: WasmKernel = (inputs, outputs, ctx) => {
  const x = inputs[0];
  if (!x || ctx.host[1] === undefined) return undefined;
  const v = expandView(x, ctx);
  return stridedCopyStepOf(x.dtype, v.dims, v.strides, 0, outputs[0]!.dims.includes(0));
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Expand')]: expand };
