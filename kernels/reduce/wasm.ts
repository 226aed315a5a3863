import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { REDUCE_SPECS, resolveArg, resolveReduce } from './op.ts';

/** Modes of kiln_reduce_rows_f32 (pool.c: the first three) and kiln_reduce_mid_f32 (reduce.c): keep in step with their enums. */
export const REDUCE_MODE = { mean: 0, max: 1, sum: 2, min: 3, sumSquare: 4, l1: 5, l2: 6 } as const;
const MODES: Readonly<Record<string, number>> = {
  ReduceMean: REDUCE_MODE.mean, ReduceMax: REDUCE_MODE.max, ReduceSum: REDUCE_MODE.sum, ReduceMin: REDUCE_MODE.min,
  ReduceSumSquare: REDUCE_MODE.sumSquare, ReduceL1: REDUCE_MODE.l1, ReduceL2: REDUCE_MODE.l2,
};
const ROWS_MODES: readonly number[] = [REDUCE_MODE.mean, REDUCE_MODE.max, REDUCE_MODE.sum];

/**
 * Reduce* where the reduced axes, size-1 axes aside, are one contiguous block: the input is
 * [outer, len, inner] and each output reduces len values at stride inner (trailing axes: inner = 1,
 * one contiguous row each; leading or middle axes: vectorized along inner). Split axis sets and
 * reductions over nothing run on js.
 */
function lowerReduce(opType: string): WasmKernel {
  const spec = REDUCE_SPECS.find((s) => s.opType === opType)!;
  return (inputs, _outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32') return undefined;
    const { x, axes } = resolveReduce(spec, inputs, ctx);
    if (!axes) return undefined;
    const big = x.dims.flatMap((d, i) => (d !== 1 ? [i] : []));
    const reduced = big.filter((i) => axes.has(i));
    if (reduced.length === 0) return undefined;
    const [p, q] = [reduced[0]!, reduced[reduced.length - 1]!];
    if (big.some((i) => i > p && i < q && !axes.has(i))) return undefined; // two separate blocks
    const prod = (from: number, to: number): number => x.dims.slice(from, to).reduce((a, d) => a * d, 1);
    const [outer, len, inner] = [prod(0, p), prod(p, q + 1), prod(q + 1, x.dims.length)];
    if (len === 0) return undefined;
    const mode = MODES[opType]!;
    if (inner === 1 && ROWS_MODES.includes(mode)) return singleExportStep('kiln_reduce_rows_f32', (at) => [at.inputs[0]!, at.outputs[0]!, outer, len, mode]);
    return singleExportStep('kiln_reduce_mid_f32', (at) => [at.inputs[0]!, at.outputs[0]!, outer, len, inner, mode]);
  };
}

/** ArgMax / ArgMin of float32 over any axis (keepdims either way, select_last_index) into int64 (kernels/wasm/src/argmax.c). */
function lowerArg(opType: 'ArgMax' | 'ArgMin'): WasmKernel {
  return (inputs, _outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32') return undefined;
    const { x, axis } = resolveArg(opType, inputs, ctx);
    const prod = (from: number, to: number): number => x.dims.slice(from, to).reduce((a, d) => a * d, 1);
    const [outer, n, inner] = [prod(0, axis), x.dims[axis]!, prod(axis + 1, x.dims.length)];
    const [min, last] = [opType === 'ArgMin' ? 1 : 0, ctx.attrs.int('select_last_index', 0) !== 0 ? 1 : 0];
    return singleExportStep('kiln_argmax_f32', (at) => [at.inputs[0]!, at.outputs[0]!, outer, n, inner, min, last]);
  };
}

export const wasm: ImplementationTable<WasmKernel> = {
  ...Object.fromEntries(Object.keys(MODES).map((op) => [opKey('', op), lowerReduce(op)])),
  [opKey('', 'ArgMax')]: lowerArg('ArgMax'),
  [opKey('', 'ArgMin')]: lowerArg('ArgMin'),
};
