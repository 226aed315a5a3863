import { coalesce } from '../common/strided.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { PERMUTE_OPS, permutedView, walk, type PermuteOp } from './op.ts';

/** kiln_transpose_f32's limit on axes left after merging (kernels/wasm/src/transpose.c). */
const MAX_RANK = 8;

/**
 * A permuted copy in wasm: the output walk (input strides per output axis) is merged and handed to
 * the kernel once, at session start, as an i32 descriptor in the step's persistent memory.
 */
function lowerPermute(op: PermuteOp): WasmKernel {
  return (inputs, outputs, ctx) => {
    const x = inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    const w = walk(permutedView(op, x, ctx));
    const c = coalesce(w.dims, w.strides);
    if (c.dims.length > MAX_RANK) return undefined;
    const empty = outputs[0]!.dims.includes(0);
    const desc = Int32Array.from([c.dims.length, ...c.dims, ...c.strides]);
    let f: WasmExport | undefined;
    return {
      reads: [0],
      scratchBytes: 0,
      persistentBytes: [desc.byteLength],
      prepare(k, at) {
        f = k.fn('kiln_transpose_f32');
        new Int32Array(k.memory.buffer, at.persistent[0]!, desc.length).set(desc);
      },
      run(k, at) {
        if (empty) return;
        f ??= k.fn('kiln_transpose_f32');
        f(at.inputs[0]!, at.outputs[0]!, at.persistent[0]!);
      },
    };
  };
}

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(PERMUTE_OPS.map((op) => [opKey('', op), lowerPermute(op)]));
