import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel, WasmStep } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { REDUCE_MODE } from '../reduce/wasm.ts';
import { countRange, setupGlobal, setupPool, GLOBAL_POOLS, type PoolKind } from './op.ts';

/** GlobalAveragePool / GlobalMaxPool: one reduction per (n, c) row of the spatial extent. */
function lowerGlobal(opType: string): WasmKernel {
  const { types } = GLOBAL_POOLS.find((p) => p.opType === opType)!;
  return (inputs, _outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32') return undefined;
    if (ctx.attrs.has('kiln_epilogue_steps')) return undefined; // a WebGPU-fusion epilogue: the js kernel applies it
    const { x } = setupGlobal(opType, types, inputs, ctx);
    const rows = x.dims[0]! * x.dims[1]!;
    const len = x.dims.slice(2).reduce((a, d) => a * d, 1);
    if (len === 0) return undefined; // the mean of nothing: the reference's NaN rule, on js
    const mode = opType === 'GlobalMaxPool' ? REDUCE_MODE.max : REDUCE_MODE.mean;
    return singleExportStep('kiln_reduce_rows_f32', (at) => [at.inputs[0]!, at.outputs[0]!, rows, len, mode]);
  };
}

/** MaxPool 2x2 stride 2 with every window inside the input (CNN downsampling): its own kernel. */
function maxPool2x2(nc: number, ih: number, iw: number, oh: number, ow: number): WasmStep {
  return singleExportStep('kiln_maxpool2x2_f32', (at) => [at.inputs[0]!, at.outputs[0]!, nc, ih, iw, oh, ow]);
}

/** MaxPool with its Indices output (int64): a scalar kernel of its own (kernels/wasm/src/argmax.c). */
function maxPoolIndices(nc: number, geometry: Int32Array, colMajor: boolean): WasmStep {
  const order = colMajor ? 1 : 0;
  return singleExportStep('kiln_maxpool_indices_f32', (at) => [at.inputs[0]!, at.outputs[0]!, at.outputs[1]!, nc, at.persistent[0]!, order], { persistent: geometry });
}

/**
 * MaxPool (with or without its Indices output) and AveragePool over 1 or 2 spatial axes; the geometry is the
 * op's (pads, auto_pad, ceil_mode resolved), written once into persistent memory for the kernel.
 */
function lowerPool2d(op: PoolKind): WasmKernel {
  return (inputs, outputs, ctx) => {
    if (inputs[0]?.dtype !== 'float32' || outputs.length > (op === 'MaxPool' ? 2 : 1)) return undefined;
    const { g } = setupPool(inputs, ctx, op);
    if (g.inDims.length > 2 || g.outDims.includes(0) || g.inDims.includes(0)) return undefined;
    const range = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
    // 1-D pools are 2-D ones over a height of 1: one tap, no pad, the count range [0, 1)
    const h = g.inDims.length === 1 ? -1 : 0;
    const at = <T>(v: readonly T[], i: number, one: T): T => (i < 0 ? one : v[i]!);
    const w = h + 1;
    const geometry = Int32Array.from([
      at(g.inDims, h, 1), g.inDims[w]!, at(g.outDims, h, 1), g.outDims[w]!, at(g.kernel, h, 1), g.kernel[w]!, at(g.strides, h, 1), g.strides[w]!,
      at(g.dilations, h, 1), g.dilations[w]!, at(g.padBegin, h, 0), g.padBegin[w]!, at(range.lo, h, 0), at(range.hi, h, 1), range.lo[w]!, range.hi[w]!,
    ]);
    const [ih, iw, oh, ow] = [geometry[0]!, geometry[1]!, geometry[2]!, geometry[3]!];
    if (outputs.length === 2) return maxPoolIndices(g.nc, geometry, ctx.attrs.int('storage_order', 0) !== 0);
    const is2x2 = op === 'MaxPool' && [2, 2, 2, 2, 1, 1, 0, 0].every((v, i) => geometry[4 + i] === v) && 2 * oh <= ih && 2 * ow <= iw;
    if (is2x2) return maxPool2x2(g.nc, ih, iw, oh, ow);
    const max = op === 'MaxPool' ? 1 : 0;
    return singleExportStep('kiln_pool2d_f32', (at) => [at.inputs[0]!, at.outputs[0]!, g.nc, at.persistent[0]!, max], { persistent: geometry });
  };
}

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'MaxPool')]: lowerPool2d('MaxPool'),
  [opKey('', 'AveragePool')]: lowerPool2d('AveragePool'),
  [opKey('', 'GlobalAveragePool')]: lowerGlobal('GlobalAveragePool'),
  [opKey('', 'GlobalMaxPool')]: lowerGlobal('GlobalMaxPool'),
};
