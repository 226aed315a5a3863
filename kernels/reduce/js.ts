import type { AnyTensor } from '../../core/tensor.ts';
import { product } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { IDENTITY, REDUCE_SPECS, reduceLayout, reduceReference, resolveReduce, type ReduceSpec } from './op.ts';

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

/**
 * The fast path, shared by Reduce* and the global pools: the reduction in coalesced form
 * (reduceLayout), each output's elements read through precomputed offset tables.
 */
export function reduceCpu(spec: ReduceSpec, x: AnyTensor, axes: ReadonlySet<number> | undefined, outDims: readonly number[]): AnyTensor {
  // Reducing over no axes is element-wise: the reference's one loop is all there is to it.
  if (!axes) return reduceReference(spec, x, axes, outDims);
  const xv = toNumbers(x);
  const pre = spec.cpuPre;
  const post = spec.cpuPost;
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

const reduce = (spec: ReduceSpec): CpuKernel => (inputs, ctx) => {
  const x = inputs[0]!;
  const { axes, out } = resolveReduce(spec, [metaOf(x)], ctx);
  return [reduceCpu(spec, x, axes, out.dims)];
};

export const js: ImplementationTable<CpuKernel> = Object.fromEntries(REDUCE_SPECS.map((s) => [opKey('', s.opType), reduce(s)]));
