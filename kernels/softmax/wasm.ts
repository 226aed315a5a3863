import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { rowsOf, type Kind } from './op.ts';

/** Softmax / LogSoftmax over contiguous rows (the last axis; opset < 13's 2-D coercion); strided rows decline. */
function lowerSoftmax(kind: Kind): WasmKernel {
  return (inputs, _outputs, ctx) => {
    const x = inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    const { rows, len, inner } = rowsOf(x, ctx, kind);
    if (inner !== 1) return undefined;
    let f: WasmExport | undefined;
    return {
      reads: [0],
      scratchBytes: 0,
      persistentBytes: [],
      prepare(k) {
        f = k.fn('kiln_softmax_f32');
      },
      run(k, at) {
        f ??= k.fn('kiln_softmax_f32');
        f(at.inputs[0]!, at.outputs[0]!, rows, len, kind === 'LogSoftmax' ? 1 : 0);
      },
    };
  };
}

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Softmax')]: lowerSoftmax('Softmax'), [opKey('', 'LogSoftmax')]: lowerSoftmax('LogSoftmax') };
