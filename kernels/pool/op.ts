import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { REDUCE_SPECS, reduceReference, type ReduceSpec } from '../reduce/op.ts';
import { unaryEpilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';

export type PoolKind = 'MaxPool' | 'AveragePool' | 'LpPool';

const MAX_TYPES: readonly DataType[] = ['float32', 'float16', 'float64', 'int8', 'uint8'];

/** Sliding-window geometry over the spatial dims of an (N, C, D1, ...) input, pads resolved. */
export interface Geometry {
  readonly nc: number;
  readonly inDims: number[];
  readonly outDims: number[];
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly padBegin: number[];
  readonly padEnd: number[];
}

function intsAttr(ctx: KernelContext, name: string, n: number, fallback: number): number[] {
  const v = ctx.attrs.ints(name);
  if (v === undefined) return new Array<number>(n).fill(fallback);
  if (v.length !== n) fail('INVALID_GRAPH', `node '${ctx.node}': ${name} has ${v.length} values, expected ${n}`);
  return [...v];
}

function geometry(x: TensorMeta, ctx: KernelContext, op: PoolKind): Geometry {
  const s = x.dims.length - 2;
  if (s < 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${op} needs an input of rank >= 3 (N, C, D1, ...), got rank ${x.dims.length}`);
  if (s > 3) fail('UNSUPPORTED_FEATURE', `node '${ctx.node}': ${op} over ${s} spatial axes is not supported (at most 3)`);
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== s) fail('INVALID_GRAPH', `node '${ctx.node}': kernel_shape ${kernel ? `[${kernel.join(', ')}]` : 'is missing'}, expected ${s} values for a rank-${x.dims.length} input`);
  const strides = intsAttr(ctx, 'strides', s, 1);
  const dilations = intsAttr(ctx, 'dilations', s, 1);
  const pads = intsAttr(ctx, 'pads', 2 * s, 0);
  if ([...kernel, ...strides, ...dilations].some((v) => v < 1) || pads.some((p) => p < 0)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': kernel_shape, strides and dilations must be >= 1 and pads >= 0`);
  }
  const ceil = ctx.attrs.int('ceil_mode', 0) !== 0;
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  const inDims = x.dims.slice(2);
  const padBegin = pads.slice(0, s);
  const padEnd = pads.slice(s);
  const outDims = inDims.map((inD, i) => {
    const effK = (kernel[i]! - 1) * dilations[i]! + 1;
    const st = strides[i]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(inD / st);
      const total = Math.max(0, (out - 1) * st + effK - inD);
      padBegin[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      padEnd[i] = total - padBegin[i]!;
      return out;
    }
    if (autoPad === 'VALID') padBegin[i] = padEnd[i] = 0;
    else if (autoPad !== 'NOTSET') fail('INVALID_GRAPH', `node '${ctx.node}': auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
    const span = inD + padBegin[i]! + padEnd[i]! - effK;
    if (span < 0) fail('INVALID_GRAPH', `node '${ctx.node}': the window (${effK} with dilation) is larger than the padded input (${inD + padBegin[i]! + padEnd[i]!}) on spatial axis ${i}`);
    let out = (ceil ? Math.ceil(span / st) : Math.floor(span / st)) + 1;
    // ceil mode: a last window that would start in the end padding is dropped
    if (ceil && (out - 1) * st >= inD + padBegin[i]!) out--;
    return out;
  });
  return { nc: x.dims[0]! * x.dims[1]!, inDims, outDims, kernel: [...kernel], strides, dilations, padBegin, padEnd };
}

export function setupPool(inputs: readonly MaybeMeta[], ctx: KernelContext, op: PoolKind): { x: TensorMeta; g: Geometry; outs: TensorMeta[] } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, op === 'MaxPool' ? MAX_TYPES : FLOAT_TYPES, ctx, 'X');
  const g = geometry(x, ctx, op);
  const dims = [x.dims[0]!, x.dims[1]!, ...g.outDims];
  const outs: TensorMeta[] = [{ dtype: x.dtype, dims }];
  if (op === 'MaxPool') outs.push({ dtype: 'int64', dims });
  return { x, g, outs };
}

/**
 * Per spatial axis, the number of window taps the average divides by for each output index:
 * taps inside the input, or (count_include_pad) inside the explicitly padded extent.
 */
export function countRange(g: Geometry, includePad: boolean): { lo: number[]; hi: number[] } {
  return {
    lo: g.padBegin.map((p) => (includePad ? -p : 0)),
    hi: g.inDims.map((d, i) => (includePad ? d + g.padEnd[i]! : d)),
  };
}

/**
 * The plain reference: for each output position, every window tap in turn (taps outside the input
 * skipped); MaxPool's Indices are the first maximum's flat input index (column-major spatial
 * numbering with storage_order = 1).
 */
function poolReference(op: PoolKind, t: AnyTensor, ctx: KernelContext): AnyTensor[] {
  const { x, g, outs } = setupPool([metaOf(t)], ctx, op);
  const xv = toNumbers(t);
  const s = g.inDims.length;
  const inSize = product(g.inDims);
  const outSize = product(g.outDims);
  const taps = product(g.kernel);
  const inStrides = stridesOf(g.inDims);
  const colMajor = op === 'MaxPool' && ctx.attrs.int('storage_order', 0) !== 0;
  const idxStrides = colMajor ? g.inDims.map((_, i) => product(g.inDims, 0, i)) : inStrides;
  const p = op === 'LpPool' ? ctx.attrs.float('p', 2) : 0;
  const range = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
  const y = new Float64Array(g.nc * outSize);
  const ind = op === 'MaxPool' && (ctx.outputCount ?? 2) > 1 ? new Float64Array(g.nc * outSize) : undefined;
  const o = new Array<number>(s);
  const k = new Array<number>(s);
  for (let c = 0; c < g.nc; c++) {
    for (let sp = 0; sp < outSize; sp++) {
      for (let d = s - 1, r = sp; d >= 0; d--, r = Math.floor(r / g.outDims[d + 1]!)) o[d] = r % g.outDims[d]!;
      let best = -Infinity;
      let bestAt = -1;
      let acc = 0;
      let divisor = 1;
      for (let d = 0; d < s; d++) {
        let count = 0;
        for (let j = 0; j < g.kernel[d]!; j++) {
          const pos = o[d]! * g.strides[d]! + j * g.dilations[d]! - g.padBegin[d]!;
          if (pos >= range.lo[d]! && pos < range.hi[d]!) count++;
        }
        divisor *= count;
      }
      for (let t = 0; t < taps; t++) {
        for (let d = s - 1, r = t; d >= 0; d--, r = Math.floor(r / g.kernel[d + 1]!)) k[d] = r % g.kernel[d]!;
        let off = 0;
        let idxOff = 0;
        let inside = true;
        for (let d = 0; d < s; d++) {
          const pos = o[d]! * g.strides[d]! + k[d]! * g.dilations[d]! - g.padBegin[d]!;
          if (pos < 0 || pos >= g.inDims[d]!) inside = false;
          off += pos * inStrides[d]!;
          idxOff += pos * idxStrides[d]!;
        }
        if (!inside) continue;
        const v = xv[c * inSize + off]!;
        if (op === 'MaxPool') {
          if (v > best || bestAt < 0) [best, bestAt] = [v, c * inSize + idxOff];
        } else acc += op === 'LpPool' ? Math.abs(v) ** p : v;
      }
      y[c * outSize + sp] = op === 'MaxPool' ? best : op === 'LpPool' ? acc ** (1 / p) : acc / divisor;
      if (ind) ind[c * outSize + sp] = Math.max(bestAt, 0);
    }
  }
  const res = [fromNumbers(x.dtype, outs[0]!.dims, y)];
  if (ind) res.push(fromNumbers('int64', outs[1]!.dims, ind));
  return res;
}

const poolDefinition = (op: PoolKind): OpDefinition => ({
  opType: op,
  inferOutputs: (inputs, ctx) => setupPool(inputs, ctx, op).outs,
  reference: (inputs, ctx) => poolReference(op, inputs[0]!, ctx),
});

/** GlobalAveragePool / GlobalMaxPool: a Reduce over every spatial axis, keeping dims. */
export function setupGlobal(opType: string, types: readonly DataType[], inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axes: Set<number>; out: TensorMeta } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, types, ctx, 'X');
  if (x.dims.length < 2) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 2 (N, C, ...), got rank ${x.dims.length}`);
  const axes = new Set(x.dims.map((_, i) => i).filter((i) => i >= 2));
  return { x, axes, out: { dtype: x.dtype, dims: x.dims.map((d, i) => (i < 2 ? d : 1)) } };
}

export const GLOBAL_POOLS: readonly { opType: string; reduce: ReduceSpec; types: readonly DataType[] }[] = [
  { opType: 'GlobalAveragePool', reduce: reduceSpec('ReduceMean'), types: FLOAT_TYPES },
  { opType: 'GlobalMaxPool', reduce: reduceSpec('ReduceMax'), types: FLOAT_TYPES },
];

function reduceSpec(opType: string): ReduceSpec {
  return REDUCE_SPECS.find((r) => r.opType === opType) ?? fail('INTERNAL', `no ${opType} spec`);
}

/** A unary tail the WebGPU fusion pass folded into a global pool (an activation's fake quantization), on its result. */
export function withGlobalEpilogue(y: AnyTensor, ctx: KernelContext): AnyTensor {
  const epi = unaryEpilogueOf(ctx.attrs, ctx.node);
  return epi ? fromNumbers(y.type, y.dims, withEpilogue(epi, Float64Array.from(toNumbers(y)))) : y;
}

const globalDefinition = ({ opType, reduce, types }: (typeof GLOBAL_POOLS)[number]): OpDefinition => ({
  opType,
  inferOutputs(inputs, ctx) {
    unaryEpilogueOf(ctx.attrs, ctx.node);
    return [setupGlobal(opType, types, inputs, ctx).out];
  },
  reference(inputs, ctx) {
    const { axes, out } = setupGlobal(opType, types, [metaOf(inputs[0]!)], ctx);
    return [withGlobalEpilogue(reduceReference(reduce, inputs[0]!, axes, out.dims), ctx)];
  },
});

export const POOL_KINDS: readonly PoolKind[] = ['MaxPool', 'AveragePool', 'LpPool'];

export const definitions: readonly OpDefinition[] = [...POOL_KINDS.map(poolDefinition), ...GLOBAL_POOLS.map(globalDefinition)];
