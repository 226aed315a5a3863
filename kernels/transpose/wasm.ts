import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { stridedCopyStepOf } from '../wasm/strided-copy.ts';
import { PERMUTE_OPS, permutedView, walk, type PermuteOp } from './op.ts';

/** A permuted copy in wasm (float32, int32, int64, 1-byte types): the output walk (input strides per output axis) as one strided copy. */
function lowerPermute(op: PermuteOp): WasmKernel {
  return (inputs, outputs, ctx) => {
    const x = inputs[0];
    if (!x) return undefined;
    const w = walk(permutedView(op, x, ctx));
    return stridedCopyStepOf(x.dtype, w.dims, w.strides, 0, outputs[0]!.dims.includes(0));
  };
}

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(PERMUTE_OPS.map((op) => [opKey('', op), lowerPermute(op)]));
