import type { AnyTensor } from '../runtime/api/tensor.ts';
import type { DataType } from '../runtime/core/dtype.ts';
import { fail } from '../runtime/core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from './common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from './common/values.ts';
import { wgslLowest } from './common/wg-reduce.ts';
import { REDUCE_SPECS, reduceCpu, reduceGpu, type ReduceSpec } from './reduce.ts';
import { ShaderBuilder, stridesOf } from './shader/builder.ts';
import type { KernelContext, MaybeMeta, OpKernel, TensorMeta } from './types.ts';

type PoolKind = 'MaxPool' | 'AveragePool' | 'LpPool';

const MAX_TYPES: readonly DataType[] = ['float32', 'float16', 'float64', 'int8', 'uint8'];

/** Sliding-window geometry over the spatial dims of an (N, C, D1, ...) input, pads resolved. */
interface Geometry {
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

function setup(inputs: readonly MaybeMeta[], ctx: KernelContext, op: PoolKind): { x: TensorMeta; g: Geometry; outs: TensorMeta[] } {
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
function countRange(g: Geometry, includePad: boolean): { lo: number[]; hi: number[] } {
  return {
    lo: g.padBegin.map((p) => (includePad ? -p : 0)),
    hi: g.inDims.map((d, i) => (includePad ? d + g.padEnd[i]! : d)),
  };
}

function poolCpu(op: PoolKind, t: AnyTensor, ctx: KernelContext): AnyTensor[] {
  const { x, g, outs } = setup([metaOf(t)], ctx, op);
  const xv = toNumbers(t);
  const s = g.inDims.length;
  const inSize = product(g.inDims);
  const outSize = product(g.outDims);
  const inStrides = stridesOf(g.inDims);
  // Indices with storage_order = 1 number the spatial dims column-major.
  const colMajor = op === 'MaxPool' && ctx.attrs.int('storage_order', 0) !== 0;
  const idxStrides = colMajor ? g.inDims.map((_, i) => product(g.inDims, 0, i)) : inStrides;
  const p = op === 'LpPool' ? ctx.attrs.float('p', 2) : 0;
  const { lo, hi } = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
  // per axis and output index: the input index of each tap (-1 when outside the input)
  const taps = g.inDims.map((inD, d) => {
    const k = g.kernel[d]!;
    const table = new Int32Array(g.outDims[d]! * k);
    for (let o = 0; o < g.outDims[d]!; o++) {
      for (let j = 0; j < k; j++) {
        const pos = o * g.strides[d]! + j * g.dilations[d]! - g.padBegin[d]!;
        table[o * k + j] = pos >= 0 && pos < inD ? pos : -1;
      }
    }
    return table;
  });
  const counts = g.inDims.map((_, d) => {
    const c = new Float64Array(g.outDims[d]!);
    for (let o = 0; o < c.length; o++) {
      for (let j = 0; j < g.kernel[d]!; j++) {
        const pos = o * g.strides[d]! + j * g.dilations[d]! - g.padBegin[d]!;
        if (pos >= lo[d]! && pos < hi[d]!) c[o]++;
      }
    }
    return c;
  });
  const kTotal = product(g.kernel);
  const tapOf = new Int32Array(kTotal * s); // tap t -> per-axis tap index
  for (let t2 = 0; t2 < kTotal; t2++) {
    let rest = t2;
    for (let d = s - 1; d >= 0; d--) {
      tapOf[t2 * s + d] = rest % g.kernel[d]!;
      rest = Math.floor(rest / g.kernel[d]!);
    }
  }
  const y = new Float64Array(g.nc * outSize);
  const ind = op === 'MaxPool' ? new Float64Array(g.nc * outSize) : undefined;
  const o = new Array<number>(s).fill(0);
  for (let q = 0; q < outSize; q++) {
    let rest = q;
    for (let d = s - 1; d >= 0; d--) {
      o[d] = rest % g.outDims[d]!;
      rest = Math.floor(rest / g.outDims[d]!);
    }
    let divisor = 1;
    for (let d = 0; d < s; d++) divisor *= counts[d]![o[d]!]!;
    for (let c = 0; c < g.nc; c++) {
      const base = c * inSize;
      let best = -Infinity;
      let bestAt = -1;
      let acc = 0;
      for (let t2 = 0; t2 < kTotal; t2++) {
        let off = 0;
        let idx = 0;
        let valid = true;
        for (let d = 0; d < s; d++) {
          const pos = taps[d]![o[d]! * g.kernel[d]! + tapOf[t2 * s + d]!]!;
          if (pos < 0) {
            valid = false;
            break;
          }
          off += pos * inStrides[d]!;
          idx += pos * idxStrides[d]!;
        }
        if (!valid) continue;
        const v = xv[base + off]!;
        if (op === 'MaxPool') {
          if (v > best || bestAt < 0) {
            best = v;
            bestAt = base + idx;
          }
        } else acc += op === 'LpPool' ? Math.abs(v) ** p : v;
      }
      const out = c * outSize + q;
      if (ind) {
        y[out] = best;
        ind[out] = Math.max(bestAt, 0);
      } else y[out] = op === 'LpPool' ? acc ** (1 / p) : acc / divisor;
    }
  }
  const res = [fromNumbers(x.dtype, outs[0]!.dims, y)];
  if (ind) res.push(fromNumbers('int64', outs[1]!.dims, ind));
  return res;
}

function makePool(op: PoolKind): OpKernel {
  return {
    opType: op,
    inferOutputs: (inputs, ctx) => setup(inputs, ctx, op).outs,
    cpu: (inputs, ctx) => poolCpu(op, inputs[0]!, ctx),
    webgpu(inputs, outputs, ctx) {
      const { x, g } = setup(inputs, ctx, op);
      const outSize = g.nc * product(g.outDims);
      if (outSize === 0 || product(x.dims) === 0) return undefined;
      const s = g.inDims.length;
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', x, 0);
      const Y = b.output('Y', outputs[0]!, 0);
      const indMeta = outputs[1];
      const I = op === 'MaxPool' && indMeta && product(indMeta.dims) > 0 ? b.output('I', indMeta, 1) : undefined;
      const n = b.uniform('n', 'u32', outSize);
      const inD = b.uniformArray('in_dims', 'u32', g.inDims);
      const outD = b.uniformArray('out_dims', 'u32', g.outDims);
      const inS = b.uniformArray('in_strides', 'u32', stridesOf(g.inDims));
      const k = b.uniformArray('win_shape', 'u32', g.kernel);
      const st = b.uniformArray('win_strides', 'u32', g.strides);
      const dl = b.uniformArray('win_dilations', 'u32', g.dilations);
      const pb = b.uniformArray('pad_begin', 'i32', g.padBegin);
      const inSize = b.uniform('in_size', 'u32', product(g.inDims));
      const pos = (d: number): string => `i32(o${d} * ${st}(${d}u) + k${d} * ${dl}(${d}u)) - ${pb}(${d}u)`;
      const lines = [`  if (global_idx >= ${n}) { return; }`, '  var rest = global_idx;'];
      for (let d = s - 1; d >= 0; d--) lines.push(`  let o${d} = rest % ${outD}(${d}u);`, `  rest = rest / ${outD}(${d}u);`);
      lines.push(`  let base = rest * ${inSize};`);
      const ct = op === 'MaxPool' ? X.type : 'f32';
      if (op === 'MaxPool') lines.push(`  var best = ${wgslLowest(b, X.type)};`, '  var best_at = 0u;', '  var found = false;');
      else lines.push('  var acc = 0.0;');
      let p = '';
      if (op === 'AveragePool') {
        // the divisor is separable: a product of per-axis tap counts
        const { lo, hi } = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
        const loA = b.uniformArray('count_lo', 'i32', lo);
        const hiA = b.uniformArray('count_hi', 'i32', hi);
        lines.push('  var divisor = 1.0;');
        for (let d = 0; d < s; d++) {
          lines.push(`  { var c = 0.0; for (var k${d} = 0u; k${d} < ${k}(${d}u); k${d}++) { let p = ${pos(d)}; if (p >= ${loA}(${d}u) && p < ${hiA}(${d}u)) { c += 1.0; } } divisor *= c; }`);
        }
      } else if (op === 'LpPool') p = b.uniform('lp_p', 'f32', ctx.attrs.float('p', 2));
      const ix = I ? b.uniformArray('index_strides', 'u32', ctx.attrs.int('storage_order', 0) !== 0 ? g.inDims.map((_, i) => product(g.inDims, 0, i)) : stridesOf(g.inDims)) : '';
      let indent = '  ';
      for (let d = 0; d < s; d++) {
        lines.push(`${indent}for (var k${d} = 0u; k${d} < ${k}(${d}u); k${d}++) {`);
        indent += '  ';
        lines.push(`${indent}let p${d} = ${pos(d)};`, `${indent}if (p${d} < 0 || p${d} >= i32(${inD}(${d}u))) { continue; }`);
      }
      const off = Array.from({ length: s }, (_, d) => `u32(p${d}) * ${inS}(${d}u)`).join(' + ');
      lines.push(`${indent}let v = ${ct}(${X.get(`base + ${off}`)});`);
      if (op === 'MaxPool') {
        const at = I ? `base + ${Array.from({ length: s }, (_, d) => `u32(p${d}) * ${ix}(${d}u)`).join(' + ')}` : '0u';
        lines.push(`${indent}if (v > best || !found) { best = v; best_at = ${at}; found = true; }`);
      } else lines.push(`${indent}acc += ${op === 'LpPool' ? `pow(abs(v), ${p})` : 'v'};`);
      for (let d = s - 1; d >= 0; d--) {
        indent = indent.slice(2);
        lines.push(`${indent}}`);
      }
      if (op === 'MaxPool') {
        lines.push(`  ${Y.set('global_idx', 'best')}`);
        if (I) lines.push(`  ${I.set('global_idx', 'i32(best_at)')}`);
      } else lines.push(`  ${Y.set('global_idx', op === 'LpPool' ? `pow(acc, 1.0 / ${p})` : 'acc / divisor')}`);
      return { kind: 'programs', programs: [b.build({ label: `${op}:${ctx.node}`, body: lines.join('\n'), totalInvocations: outSize })] };
    },
  };
}

/** GlobalAveragePool / GlobalMaxPool: a Reduce over every spatial axis, keeping dims. */
function makeGlobal(opType: string, reduceOp: string, types: readonly DataType[]): OpKernel {
  const spec: ReduceSpec = REDUCE_SPECS.find((r) => r.opType === reduceOp) ?? fail('INTERNAL', `no ${reduceOp} spec`);
  const setupG = (inputs: readonly MaybeMeta[], ctx: KernelContext): { x: TensorMeta; axes: Set<number>; out: TensorMeta } => {
    const x = requireInput(inputs, 0, ctx);
    requireType(x, types, ctx, 'X');
    if (x.dims.length < 2) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} needs an input of rank >= 2 (N, C, ...), got rank ${x.dims.length}`);
    const axes = new Set(x.dims.map((_, i) => i).filter((i) => i >= 2));
    return { x, axes, out: { dtype: x.dtype, dims: x.dims.map((d, i) => (i < 2 ? d : 1)) } };
  };
  return {
    opType,
    inferOutputs: (inputs, ctx) => [setupG(inputs, ctx).out],
    cpu(inputs, ctx) {
      const { axes, out } = setupG([metaOf(inputs[0]!)], ctx);
      return [reduceCpu(spec, inputs[0]!, axes, out.dims)];
    },
    webgpu(inputs, outputs, ctx) {
      const { x, axes } = setupG(inputs, ctx);
      return reduceGpu(spec, x, outputs[0]!, axes, ctx);
    },
  };
}

export const kernels: readonly OpKernel[] = [
  makePool('MaxPool'),
  makePool('AveragePool'),
  makePool('LpPool'),
  makeGlobal('GlobalAveragePool', 'ReduceMean', FLOAT_TYPES),
  makeGlobal('GlobalMaxPool', 'ReduceMax', FLOAT_TYPES),
];
