import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { wgslLowest } from '../webgpu/wg-reduce.ts';
import { REDUCE_SPECS, reduceCpu, reduceGpu, type ReduceSpec } from '../reduce/legacy.ts';
import { ShaderBuilder, stridesOf } from '../webgpu/shader-builder.ts';
import type { KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import type { LegacyOpKernel } from '../legacy-adapter.ts';

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

/** One spatial axis of a window loop: for output index o, taps j in [lo[o], hi[o]) land inside the input. */
interface Axis {
  readonly out: number;
  readonly stride: number;
  readonly dil: number;
  readonly pad: number;
  readonly inStride: number;
  readonly idxStride: number;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly count: Float64Array;
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
  const range = countRange(g, ctx.attrs.int('count_include_pad', 0) !== 0);
  const axis = (d: number): Axis => {
    const out = g.outDims[d]!;
    const [lo, hi, count] = [new Int32Array(out), new Int32Array(out), new Float64Array(out)];
    for (let o = 0; o < out; o++) {
      lo[o] = g.kernel[d]!;
      for (let j = 0; j < g.kernel[d]!; j++) {
        const pos = o * g.strides[d]! + j * g.dilations[d]! - g.padBegin[d]!;
        if (pos >= 0 && pos < g.inDims[d]!) {
          lo[o] = Math.min(lo[o]!, j);
          hi[o] = j + 1;
        }
        if (pos >= range.lo[d]! && pos < range.hi[d]!) count[o]++;
      }
    }
    return { out, stride: g.strides[d]!, dil: g.dilations[d]!, pad: g.padBegin[d]!, inStride: inStrides[d]!, idxStride: idxStrides[d]!, lo, hi, count };
  };
  // 1-D and 2-D run as 3-D with leading unit axes, so one triple loop serves all
  const unit: Axis = { out: 1, stride: 1, dil: 1, pad: 0, inStride: 0, idxStride: 0, lo: Int32Array.of(0), hi: Int32Array.of(1), count: Float64Array.of(1) };
  const [A, B, C] = [...new Array<Axis>(3 - s).fill(unit), ...g.inDims.map((_, d) => axis(d))] as [Axis, Axis, Axis];
  const y = new Float64Array(g.nc * outSize);
  // the Indices pass doubles the work: skip it when the node declares only Y
  const ind = op === 'MaxPool' && (ctx.outputCount ?? 2) > 1 ? new Float64Array(g.nc * outSize) : undefined;
  const lp = op === 'LpPool';
  const isMax = op === 'MaxPool';
  // hot loop: axis fields in locals (property loads in the innermost loop cost ~2x)
  const [aOut, aS, aP, aD, aIn, aIx, aLo, aHi, aCnt] = [A.out, A.stride, A.pad, A.dil, A.inStride, A.idxStride, A.lo, A.hi, A.count];
  const [bOut, bS, bP, bD, bIn, bIx, bLo, bHi, bCnt] = [B.out, B.stride, B.pad, B.dil, B.inStride, B.idxStride, B.lo, B.hi, B.count];
  const [cOut, cS, cP, cD, cIx, cLo, cHi, cCnt] = [C.out, C.stride, C.pad, C.dil, C.idxStride, C.lo, C.hi, C.count];
  let out = 0;
  for (let c = 0; c < g.nc; c++) {
    const base = c * inSize;
    for (let o0 = 0; o0 < aOut; o0++) {
      const h0 = o0 * aS - aP;
      const lo0 = aLo[o0]!;
      const hi0 = aHi[o0]!;
      for (let o1 = 0; o1 < bOut; o1++) {
        const h1 = o1 * bS - bP;
        const lo1 = bLo[o1]!;
        const hi1 = bHi[o1]!;
        for (let o2 = 0; o2 < cOut; o2++, out++) {
          const h2 = o2 * cS - cP;
          const lo2 = cLo[o2]!;
          const hi2 = cHi[o2]!;
          let best = -Infinity;
          let bestAt = -1;
          let acc = 0;
          for (let j0 = lo0; j0 < hi0; j0++) {
            const i0 = h0 + j0 * aD;
            for (let j1 = lo1; j1 < hi1; j1++) {
              const i1 = h1 + j1 * bD;
              const row = base + i0 * aIn + i1 * bIn + h2;
              if (ind) {
                for (let j2 = lo2; j2 < hi2; j2++) {
                  const v = xv[row + j2 * cD]!;
                  if (v > best || bestAt < 0) {
                    best = v;
                    bestAt = base + i0 * aIx + i1 * bIx + (h2 + j2 * cD) * cIx;
                  }
                }
              } else if (isMax) {
                for (let j2 = lo2; j2 < hi2; j2++) best = Math.max(best, xv[row + j2 * cD]!);
              } else if (lp) {
                for (let j2 = lo2; j2 < hi2; j2++) acc += Math.abs(xv[row + j2 * cD]!) ** p;
              } else {
                for (let j2 = lo2; j2 < hi2; j2++) acc += xv[row + j2 * cD]!;
              }
            }
          }
          y[out] = isMax ? best : lp ? acc ** (1 / p) : acc / (aCnt[o0]! * bCnt[o1]! * cCnt[o2]!);
          if (ind) ind[out] = Math.max(bestAt, 0);
        }
      }
    }
  }
  const res = [fromNumbers(x.dtype, outs[0]!.dims, y)];
  if (ind) res.push(indicesTensor(outs[1]!.dims, ind, product(x.dims)));
  return res;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The Indices output is computed whether or not the node uses it (kernels cannot see which outputs
 * are used), so build it without a BigInt per element: non-negative int32 values in the low halves.
 */
function indicesTensor(dims: readonly number[], values: Float64Array, inputSize: number): AnyTensor {
  if (!LITTLE_ENDIAN || inputSize > 0x7fffffff) return fromNumbers('int64', dims, values);
  const data = new BigInt64Array(values.length);
  const halves = new Int32Array(data.buffer);
  for (let i = 0; i < values.length; i++) halves[2 * i] = values[i]!;
  return new Tensor('int64', data, dims);
}

function makePool(op: PoolKind): LegacyOpKernel {
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
function makeGlobal(opType: string, reduceOp: string, types: readonly DataType[]): LegacyOpKernel {
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

export const kernels: readonly LegacyOpKernel[] = [
  makePool('MaxPool'),
  makePool('AveragePool'),
  makePool('LpPool'),
  makeGlobal('GlobalAveragePool', 'ReduceMean', FLOAT_TYPES),
  makeGlobal('GlobalMaxPool', 'ReduceMax', FLOAT_TYPES),
];
