import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { CombineOp } from '../webgpu/wg-reduce.ts';
import type { WgslType } from '../webgpu/storage.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Reduce* ops: each is `post(combine over the reduced elements of pre(x)))`. LogSumExp also
 * subtracts the maximum first so exp() cannot overflow.
 */
export interface ReduceSpec {
  readonly opType: string;
  readonly types: readonly DataType[];
  /** first opset where axes come as input #1 instead of an attribute */
  readonly axesInputSince: number;
  readonly combine: CombineOp;
  readonly cpuPre?: (x: number) => number;
  readonly cpuPost?: (acc: number, count: number) => number;
  /** WGSL over `v` in the compute type */
  readonly wgslPre?: (v: string, t: WgslType) => string;
  /** WGSL over `acc` and `count` (u32) */
  readonly wgslPost?: (acc: string, count: string, t: WgslType) => string;
  /** computes in f32 even for integer inputs (sqrt/log/exp) */
  readonly float?: boolean;
  readonly shiftByMax?: boolean;
}

const SUM_TYPES = ['float32', 'float16', 'float64', 'int32', 'int64', 'uint32', 'uint64'] as const;
const MINMAX_TYPES = [...NUMERIC_TYPES, 'bool'] as const;

export const REDUCE_SPECS: readonly ReduceSpec[] = [
  { opType: 'ReduceSum', types: SUM_TYPES, axesInputSince: 13, combine: 'sum' },
  { opType: 'ReduceMean', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', cpuPost: (a, n) => a / n, wgslPost: (a, n, t) => `${a} / ${t}(${n})` },
  { opType: 'ReduceMax', types: MINMAX_TYPES, axesInputSince: 18, combine: 'max' },
  { opType: 'ReduceMin', types: MINMAX_TYPES, axesInputSince: 18, combine: 'min' },
  { opType: 'ReduceProd', types: SUM_TYPES, axesInputSince: 18, combine: 'prod' },
  { opType: 'ReduceL1', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', cpuPre: Math.abs, wgslPre: (v) => `abs(${v})` },
  { opType: 'ReduceL2', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', float: true, cpuPre: (x) => x * x, cpuPost: Math.sqrt, wgslPre: (v) => `${v} * ${v}`, wgslPost: (a) => `sqrt(${a})` },
  { opType: 'ReduceSumSquare', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', cpuPre: (x) => x * x, wgslPre: (v) => `${v} * ${v}` },
  { opType: 'ReduceLogSum', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', float: true, cpuPost: Math.log, wgslPost: (a) => `kiln_log(${a})` },
  { opType: 'ReduceLogSumExp', types: SUM_TYPES, axesInputSince: 18, combine: 'sum', float: true, shiftByMax: true, cpuPre: Math.exp, cpuPost: Math.log, wgslPre: (v) => `exp(${v})`, wgslPost: (a) => `kiln_log(${a})` },
];

// Ops whose value for a single element is that element (noop_with_empty_axes is then a copy).
export const IDENTITY_ALONE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceLogSumExp']);

export const IDENTITY: Record<CombineOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/**
 * A reduction in coalesced form: adjacent input dims of the same kind (kept or reduced) merge, and
 * size-1 dims vanish, so the common cases (last axis, all axes, NCHW spatial) become rank 1 or 2.
 */
export interface ReduceLayout {
  readonly keptDims: number[];
  readonly keptStrides: number[];
  readonly redDims: number[];
  readonly redStrides: number[];
  readonly outputs: number;
  readonly reduced: number;
}

export function reduceLayout(dims: readonly number[], axes: ReadonlySet<number>): ReduceLayout {
  const strides = stridesOf(dims);
  const kept: [number, number][] = [];
  const red: [number, number][] = [];
  let last: 'k' | 'r' | undefined;
  dims.forEach((d, i) => {
    if (d === 1) return;
    const kind = axes.has(i) ? 'r' : 'k';
    const list = kind === 'r' ? red : kept;
    const prev = list[list.length - 1];
    // merge with the previous dim when it is the same kind and contiguous with this one
    if (last === kind && prev && prev[1] === d * strides[i]!) {
      prev[0] *= d;
      prev[1] = strides[i]!;
    } else list.push([d, strides[i]!]);
    last = kind;
  });
  return {
    keptDims: kept.map((k) => k[0]),
    keptStrides: kept.map((k) => k[1]),
    redDims: red.map((r) => r[0]),
    redStrides: red.map((r) => r[1]),
    outputs: product(kept.map((k) => k[0])),
    reduced: product(dims.filter((_, i) => axes.has(i))),
  };
}

/** The axes a Reduce node reduces, or undefined for "no reduction" (noop_with_empty_axes). */
export function axesOf(spec: ReduceSpec, rank: number, ctx: KernelContext): Set<number> | undefined {
  const fromInput = ctx.opset >= spec.axesInputSince;
  const given = fromInput ? hostInts(ctx, 1) : ctx.attrs.ints('axes');
  if (!given || given.length === 0) {
    if (ctx.attrs.int('noop_with_empty_axes', 0) !== 0) return undefined;
    return new Set(Array.from({ length: rank }, (_, i) => i));
  }
  const set = new Set(given.map((a) => normalizeAxis(a, rank, ctx)));
  if (set.size !== given.length) fail('INVALID_GRAPH', `node '${ctx.node}': axes [${given.join(', ')}] repeat an axis`);
  return set;
}

export function reducedDims(dims: readonly number[], axes: ReadonlySet<number>, keepdims: boolean): number[] {
  return keepdims ? dims.map((d, i) => (axes.has(i) ? 1 : d)) : dims.filter((_, i) => !axes.has(i));
}

export function resolveReduce(spec: ReduceSpec, inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axes: Set<number> | undefined; out: TensorMeta } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, spec.types, ctx, 'data');
  const axes = axesOf(spec, x.dims.length, ctx);
  const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
  return { x, axes, out: { dtype: x.dtype, dims: axes ? reducedDims(x.dims, axes, keepdims) : [...x.dims] } };
}

/**
 * The plain reference, shared by Reduce* and the global pools: every input element goes to the
 * output slot its index has with the reduced axes dropped; LogSumExp takes each slot's maximum first.
 */
export function reduceReference(spec: ReduceSpec, x: AnyTensor, axes: ReadonlySet<number> | undefined, outDims: readonly number[]): AnyTensor {
  const xv = toNumbers(x);
  const pre = spec.cpuPre;
  const post = spec.cpuPost;
  if (!axes) {
    // Reducing over no axes reduces each element alone: the element-wise part of the op still applies.
    const out = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      const shift = spec.shiftByMax ? xv[i]! : 0;
      const p = pre ? pre(xv[i]! - shift) : xv[i]!;
      out[i] = (post ? post(p, 1) : p) + shift;
    }
    return fromNumbers(x.type, outDims, out);
  }
  const dims = x.dims;
  const slots = new Int32Array(xv.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < xv.length; i++) {
    let slot = 0;
    for (let d = 0; d < dims.length; d++) if (!axes.has(d)) slot = slot * dims[d]! + idx[d]!;
    slots[i] = slot;
    for (let d = dims.length - 1; d >= 0 && ++idx[d]! === dims[d]!; d--) idx[d] = 0;
  }
  const size = product(outDims);
  const reduced = product(dims.filter((_, d) => axes.has(d)));
  const shift = new Float64Array(size);
  if (spec.shiftByMax) {
    shift.fill(-Infinity);
    for (let i = 0; i < xv.length; i++) shift[slots[i]!] = Math.max(shift[slots[i]!]!, xv[i]!);
    for (let o = 0; o < size; o++) if (!Number.isFinite(shift[o]!)) shift[o] = 0;
  }
  const acc = new Float64Array(size).fill(IDENTITY[spec.combine]);
  for (let i = 0; i < xv.length; i++) {
    const o = slots[i]!;
    const v = pre ? pre(xv[i]! - shift[o]!) : xv[i]!;
    const a = acc[o]!;
    if (spec.combine === 'sum') acc[o] = a + v;
    else if (spec.combine === 'prod') acc[o] = a * v;
    else if (spec.combine === 'max') acc[o] = v > a || Number.isNaN(v) ? v : a;
    else acc[o] = v < a || Number.isNaN(v) ? v : a;
  }
  const out = new Float64Array(size);
  for (let o = 0; o < size; o++) out[o] = (post ? post(acc[o]!, reduced) : acc[o]!) + shift[o]!;
  return fromNumbers(x.type, outDims, out);
}

function reduceDefinition(spec: ReduceSpec): OpDefinition {
  return {
    opType: spec.opType,
    hostInputs: [1],
    inferOutputs: (inputs, ctx) => [resolveReduce(spec, inputs, ctx).out],
    reference(inputs, ctx) {
      const x = inputs[0]!;
      const { axes, out } = resolveReduce(spec, [metaOf(x)], ctx);
      return [reduceReference(spec, x, axes, out.dims)];
    },
  };
}

export function resolveArg(opType: 'ArgMax' | 'ArgMin', inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axis: number; out: TensorMeta } {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, [...NUMERIC_TYPES], ctx, 'data');
  const rank = x.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 1, got a scalar`);
  const axis = normalizeAxis(ctx.attrs.int('axis', 0), rank, ctx);
  if (x.dims[axis] === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} over an empty axis ${axis} (dims [${x.dims.join(', ')}])`);
  const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
  return { x, axis, out: { dtype: 'int64', dims: reducedDims(x.dims, new Set([axis]), keepdims) } };
}

/** ArgMax / ArgMin: the index along one axis, ties to the first (or last) occurrence; the reference is the plain scan. */
function argDefinition(opType: 'ArgMax' | 'ArgMin'): OpDefinition {
  const better = opType === 'ArgMax' ? 'max' : 'min';
  return {
    opType,
    inferOutputs: (inputs, ctx) => [resolveArg(opType, inputs, ctx).out],
    reference(inputs, ctx) {
      const t = inputs[0]!;
      const { x, axis, out } = resolveArg(opType, [metaOf(t)], ctx);
      const last = ctx.attrs.int('select_last_index', 0) !== 0;
      const xv = toNumbers(t);
      const L = x.dims[axis]!;
      const inner = product(x.dims, axis + 1);
      const outer = product(x.dims, 0, axis);
      const res = new Float64Array(outer * inner);
      const sign = better === 'max' ? 1 : -1;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * L * inner + i;
          let best = sign * xv[base]!;
          let at = 0;
          for (let j = 1; j < L; j++) {
            const v = sign * xv[base + j * inner]!;
            if (v > best || (last && v === best)) {
              best = v;
              at = j;
            }
          }
          res[o * inner + i] = at;
        }
      }
      return [fromNumbers('int64', out.dims, res)];
    },
  };
}

export const definitions: readonly OpDefinition[] = [...REDUCE_SPECS.map(reduceDefinition), argDefinition('ArgMax'), argDefinition('ArgMin')];
