import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { REDUCE_SPECS, resolveReduce } from './op.ts';

/** Modes of kiln_reduce_rows_f32 (kernels/wasm/src/pool.c): keep in step with its enum. */
export const REDUCE_MODE = { mean: 0, max: 1, sum: 2 } as const;
const MODES: Readonly<Record<string, number>> = { ReduceMean: REDUCE_MODE.mean, ReduceMax: REDUCE_MODE.max, ReduceSum: REDUCE_MODE.sum };

/**
 * ReduceMean/Max/Sum over trailing axes (size-1 axes may sit anywhere): each output is one
 * contiguous row of the input. Other axis sets, and reductions over nothing, run on js.
 */
function lowerReduce(opType: string): WasmKernel {
  const spec = REDUCE_SPECS.find((s) => s.opType === opType)!;
  return (inputs, _outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32') return undefined;
    const { x, axes } = resolveReduce(spec, inputs, ctx);
    if (!axes) return undefined;
    const first = x.dims.findIndex((d, i) => axes.has(i) && d !== 1);
    if (first < 0) return undefined;
    if (x.dims.some((d, i) => i >= first && d !== 1 && !axes.has(i))) return undefined;
    const len = x.dims.reduce((a, d, i) => (axes.has(i) ? a * d : a), 1);
    const rows = x.dims.reduce((a, d, i) => (axes.has(i) ? a : a * d), 1);
    if (len === 0) return undefined;
    const mode = MODES[opType]!;
    let f: WasmExport | undefined;
    return {
      reads: [0],
      scratchBytes: 0,
      persistentBytes: [],
      prepare(k) {
        f = k.fn('kiln_reduce_rows_f32');
      },
      run(k, at) {
        f ??= k.fn('kiln_reduce_rows_f32');
        f(at.inputs[0]!, at.outputs[0]!, rows, len, mode);
      },
    };
  };
}

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(Object.keys(MODES).map((op) => [opKey('', op), lowerReduce(op)]));
