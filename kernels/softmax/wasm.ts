import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { rowsOf, type Kind } from './op.ts';

/**
 * Softmax / LogSoftmax over contiguous rows (the last axis; opset < 13's 2-D coercion), or over a
 * strided axis (inner > 1: a channel axis of NCHW), 4 columns per vector.
 */
function lowerSoftmax(kind: Kind): WasmKernel {
  return (inputs, _outputs, ctx) => {
    const x = inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    const { rows, len, inner } = rowsOf(x, ctx, kind);
    const log = kind === 'LogSoftmax' ? 1 : 0;
    if (inner === 1) return singleExportStep('kiln_softmax_f32', (at) => [at.inputs[0]!, at.outputs[0]!, rows, len, log]);
    // rows counts every column: outer * inner
    return singleExportStep('kiln_softmax_strided_f32', (at) => [at.inputs[0]!, at.outputs[0]!, rows / inner, len, inner, log]);
  };
}

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Softmax')]: lowerSoftmax('Softmax'), [opKey('', 'LogSoftmax')]: lowerSoftmax('LogSoftmax') };
