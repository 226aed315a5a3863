import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { NUMERIC_TYPES, normalizeAxis, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import { COMBINE, rowWorkgroupSize, workgroupArgReduce, workgroupReduce, wgslHighest, wgslLog, wgslLowest, type CombineOp } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder, stridesOf } from '../webgpu/shader-builder.ts';
import type { WgslType } from '../webgpu/storage.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';
import type { GpuKernelContext, GpuLowering } from '../webgpu/contract.ts';

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
const IDENTITY_ALONE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceLogSumExp']);

const IDENTITY: Record<CombineOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

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

/** Offsets of each element of a (dims, strides) sub-space, in row-major order. */
function offsetsOf(dims: readonly number[], strides: readonly number[]): Int32Array {
  const n = product(dims);
  const out = new Int32Array(n);
  const idx = new Array<number>(dims.length).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = dims.length - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < dims[d]!) break;
      off -= strides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The axes a Reduce node reduces, or undefined for "no reduction" (noop_with_empty_axes). */
function axesOf(spec: ReduceSpec, rank: number, ctx: KernelContext): Set<number> | undefined {
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

/** Shared by Reduce* and the global pools: reduce `x` over `axes` with `spec`'s math. */
export function reduceCpu(spec: ReduceSpec, x: AnyTensor, axes: ReadonlySet<number> | undefined, outDims: readonly number[]): AnyTensor {
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
  const lay = reduceLayout(x.dims, axes);
  const redOff = offsetsOf(lay.redDims, lay.redStrides);
  const keptOff = offsetsOf(lay.keptDims, lay.keptStrides);
  const out = new Float64Array(product(outDims));
  const R = redOff.length;
  const combine = spec.combine;
  for (let o = 0; o < out.length; o++) {
    const base = keptOff[o]!;
    let shift = 0;
    if (spec.shiftByMax) {
      shift = -Infinity;
      for (let r = 0; r < R; r++) shift = Math.max(shift, xv[base + redOff[r]!]!);
      if (!Number.isFinite(shift)) shift = 0;
    }
    let acc = IDENTITY[combine];
    for (let r = 0; r < R; r++) {
      const v = pre ? pre(xv[base + redOff[r]!]! - shift) : xv[base + redOff[r]!]!;
      if (combine === 'sum') acc += v;
      else if (combine === 'prod') acc *= v;
      else if (combine === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
      else acc = v < acc || Number.isNaN(v) ? v : acc;
    }
    out[o] = (post ? post(acc, lay.reduced) : acc) + shift;
  }
  return fromNumbers(x.type, outDims, out);
}

/** WGSL: flat offset of element `i` of a coalesced sub-space whose dims/strides are uniform arrays. */
function offsetHelper(b: ShaderBuilder, fn: string, dims: readonly number[], strides: readonly number[]): void {
  const d = b.uniformArray(`${fn}_dims`, 'u32', dims);
  const s = b.uniformArray(`${fn}_strides`, 'u32', strides);
  const lines = [`fn ${fn}(i: u32) -> u32 {`, '  var rest = i;', '  var off = 0u;'];
  for (let k = dims.length - 1; k >= 0; k--) lines.push(`  off += (rest % ${d}(${k}u)) * ${s}(${k}u);`, `  rest = rest / ${d}(${k}u);`);
  lines.push('  return off;', '}');
  b.helper(fn, lines.join('\n'));
}

/**
 * Below this many elements per output, one invocation per output beats a workgroup per output.
 * On software adapters (SwiftShader) always: a workgroup runs on one CPU thread there, so a
 * workgroup per output gains no parallelism, and each of its barriers switches every invocation's
 * fiber. Measured (bench/, GlobalAveragePool 1x72x6x24 in PaddleOCR's classifier): 397 ms with a
 * 256-wide workgroup per output, 3 ms with one invocation per output.
 */
const WORKGROUP_ROW_MIN = 64;

export function reduceGpu(spec: ReduceSpec, x: TensorMeta, y: TensorMeta, axes: ReadonlySet<number>, ctx: GpuKernelContext): GpuLowering | undefined {
  if (product(x.dims) === 0 || product(y.dims) === 0) return undefined; // nothing to bind; the CPU writes identities
  const lay = reduceLayout(x.dims, axes);
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', x, 0);
  const Y = b.output('Y', { dtype: y.dtype, dims: [lay.outputs] });
  const st = X.type;
  const ct: WgslType = spec.float ? 'f32' : st;
  const nOut = b.uniform('n_out', 'u32', lay.outputs);
  const R = b.uniform('n_red', 'u32', lay.reduced);
  offsetHelper(b, 'kept_base', lay.keptDims, lay.keptStrides);
  offsetHelper(b, 'red_off', lay.redDims, lay.redStrides);
  const lowest = spec.combine === 'max' || spec.shiftByMax ? wgslLowest(b, ct) : '';
  if (spec.float) wgslLog(b);
  const init = spec.combine === 'sum' ? `${ct}(0)` : spec.combine === 'prod' ? `${ct}(1)` : spec.combine === 'max' ? lowest : wgslHighest(b, ct);
  const load = (r: string): string => `${ct}(${X.get(`base + red_off(${r})`)})`;
  const pre = (v: string): string => (spec.wgslPre ? spec.wgslPre(v, ct) : v);
  // LogSumExp: `sh` is the row maximum, or 0 when that is -inf (empty or all -inf rows)
  const post = (acc: string): string => {
    const p = spec.wgslPost ? spec.wgslPost(acc, R, ct) : acc;
    return `${st}(${spec.shiftByMax ? `${p} + sh` : p})`;
  };
  const label = `${spec.opType}:${ctx.node}`;
  if (lay.reduced < WORKGROUP_ROW_MIN || ctx.caps.software) {
    const body = [
      `  if (global_idx >= ${nOut}) { return; }`,
      '  let base = kept_base(global_idx);',
      spec.shiftByMax ? `  var shift = ${lowest};\n  for (var r = 0u; r < ${R}; r++) { shift = max(shift, ${load('r')}); }\n  let sh = select(shift, 0.0, shift == ${lowest});` : '',
      `  var acc = ${init};`,
      `  for (var r = 0u; r < ${R}; r++) { let v = ${load('r')}${spec.shiftByMax ? ' - sh' : ''}; acc = ${COMBINE[spec.combine]('acc', pre('v'))}; }`,
      `  ${Y.set('global_idx', post('acc'))}`,
    ].join('\n');
    return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: lay.outputs })] };
  }
  const wg = rowWorkgroupSize(lay.reduced, ctx.caps);
  const red = workgroupReduce(b, spec.combine, ct, wg);
  const body = [
    '  let o = workgroup_idx;',
    `  if (o >= ${nOut}) { return; }`,
    '  let base = kept_base(o);',
    spec.shiftByMax
      ? `  var m = ${lowest};\n  for (var r = local_idx; r < ${R}; r += ${wg}u) { m = max(m, ${load('r')}); }\n  let shift = ${workgroupReduce(b, 'max', ct, wg)}(local_idx, m);\n  let sh = select(shift, 0.0, shift == ${lowest});`
      : '',
    `  var acc = ${init};`,
    `  for (var r = local_idx; r < ${R}; r += ${wg}u) { let v = ${load('r')}${spec.shiftByMax ? ' - sh' : ''}; acc = ${COMBINE[spec.combine]('acc', pre('v'))}; }`,
    `  let total = ${red}(local_idx, acc);`,
    `  if (local_idx == 0u) { ${Y.set('o', post('total'))} }`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: lay.outputs * wg, workgroupSize: wg })] };
}

function makeReduce(spec: ReduceSpec): LegacyOpKernel {
  const resolve = (inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axes: Set<number> | undefined; out: TensorMeta } => {
    const x = requireInput(inputs, 0, ctx);
    requireType(x, spec.types, ctx, 'data');
    const axes = axesOf(spec, x.dims.length, ctx);
    const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
    return { x, axes, out: { dtype: x.dtype, dims: axes ? reducedDims(x.dims, axes, keepdims) : [...x.dims] } };
  };
  return {
    opType: spec.opType,
    hostInputs: [1],
    inferOutputs: (inputs, ctx) => [resolve(inputs, ctx).out],
    cpu(inputs, ctx) {
      const x = inputs[0]!;
      const { axes, out } = resolve([metaOf(x)], ctx);
      return [reduceCpu(spec, x, axes, out.dims)];
    },
    webgpu(inputs, outputs, ctx) {
      const { x, axes } = resolve(inputs, ctx);
      // no axes: a plain copy when the op's single-element value is the element, else the CPU
      if (!axes) return IDENTITY_ALONE.has(spec.opType) ? { kind: 'view', input: 0 } : undefined;
      return reduceGpu(spec, x, outputs[0]!, axes, ctx);
    },
  };
}

/** ArgMax / ArgMin: the index along one axis, ties to the first (or last) occurrence. */
function makeArg(opType: 'ArgMax' | 'ArgMin'): LegacyOpKernel {
  const better = opType === 'ArgMax' ? 'max' : 'min';
  const resolve = (inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axis: number; out: TensorMeta } => {
    const x = requireInput(inputs, 0, ctx);
    requireType(x, [...NUMERIC_TYPES], ctx, 'data');
    const rank = x.dims.length;
    if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 1, got a scalar`);
    const axis = normalizeAxis(ctx.attrs.int('axis', 0), rank, ctx);
    if (x.dims[axis] === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} over an empty axis ${axis} (dims [${x.dims.join(', ')}])`);
    const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
    return { x, axis, out: { dtype: 'int64', dims: reducedDims(x.dims, new Set([axis]), keepdims) } };
  };
  return {
    opType,
    inferOutputs: (inputs, ctx) => [resolve(inputs, ctx).out],
    cpu(inputs, ctx) {
      const t = inputs[0]!;
      const { x, axis, out } = resolve([metaOf(t)], ctx);
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
    webgpu(inputs, _outputs, ctx) {
      const { x, axis } = resolve(inputs, ctx);
      if (product(x.dims) === 0) return undefined;
      const last = ctx.attrs.int('select_last_index', 0) !== 0;
      const L = x.dims[axis]!;
      const inner = product(x.dims, axis + 1);
      const rows = product(x.dims) / L;
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', x, 0);
      const Y = b.output('Y', { dtype: 'int64', dims: [rows] });
      const nRows = b.uniform('n_rows', 'u32', rows);
      const len = b.uniform('len', 'u32', L);
      const inn = b.uniform('inner', 'u32', inner);
      const cmp = better === 'max' ? '>' : '<';
      const label = `${opType}:${ctx.node}`;
      const baseOf = (row: string): string => `(${row} / ${inn}) * ${len} * ${inn} + ${row} % ${inn}`;
      if (L < WORKGROUP_ROW_MIN) {
        const body = [
          `  if (global_idx >= ${nRows}) { return; }`,
          `  let base = ${baseOf('global_idx')};`,
          `  var best = ${X.get('base')};`,
          '  var at = 0u;',
          `  for (var j = 1u; j < ${len}; j++) {`,
          `    let v = ${X.get(`base + j * ${inn}`)};`,
          `    if (v ${cmp}${last ? '=' : ''} best) { best = v; at = j; }`,
          '  }',
          `  ${Y.set('global_idx', 'i32(at)')}`,
        ].join('\n');
        return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: rows })] };
      }
      const wg = rowWorkgroupSize(L, ctx.caps);
      const arg = workgroupArgReduce(b, better, X.type, wg, last);
      const body = [
        '  let row = workgroup_idx;',
        `  if (row >= ${nRows}) { return; }`,
        `  let base = ${baseOf('row')};`,
        `  var best = ${X.get('base')};`,
        '  var at = 0xffffffffu;',
        `  for (var j = local_idx; j < ${len}; j += ${wg}u) {`,
        `    let v = ${X.get(`base + j * ${inn}`)};`,
        `    if (at == 0xffffffffu || v ${cmp}${last ? '=' : ''} best) { best = v; at = j; }`,
        '  }',
        `  let idx = ${arg}(local_idx, best, at);`,
        `  if (local_idx == 0u) { ${Y.set('row', 'i32(idx)')} }`,
      ].join('\n');
      return { kind: 'programs', programs: [b.build({ label, body, totalInvocations: rows * wg, workgroupSize: wg })] };
    },
  };
}

export const kernels: readonly LegacyOpKernel[] = [...REDUCE_SPECS.map(makeReduce), makeArg('ArgMax'), makeArg('ArgMin')];
