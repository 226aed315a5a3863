import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { product } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import { stridesOf } from '../webgpu/shader-builder.ts';
import type { CpuKernel, ImplementationTable, KernelContext } from '../contract.ts';
import { opKey } from '../contract.ts';
import { reduceCpu } from '../reduce/js.ts';
import { countRange, GLOBAL_POOLS, POOL_KINDS, setupGlobal, setupPool, withGlobalEpilogue, type PoolKind } from './op.ts';

// The pools on the CPU: 1-D and 2-D windows run as 3-D, per-axis tap ranges precomputed, the hot
// loop on locals; the global pools through Reduce's fast path.

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

export function poolCpu(op: PoolKind, t: AnyTensor, ctx: KernelContext): AnyTensor[] {
  const { x, g, outs } = setupPool([metaOf(t)], ctx, op);
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

export const js: ImplementationTable<CpuKernel> = {
  ...Object.fromEntries(POOL_KINDS.map((op) => [opKey('', op), (inputs, ctx) => poolCpu(op, inputs[0]!, ctx)] satisfies [string, CpuKernel])),
  ...Object.fromEntries(
    GLOBAL_POOLS.map(({ opType, reduce, types }) => {
      const kernel: CpuKernel = (inputs, ctx) => {
        const { axes, out } = setupGlobal(opType, types, [metaOf(inputs[0]!)], ctx);
        return [withGlobalEpilogue(reduceCpu(reduce, inputs[0]!, axes, out.dims), ctx)];
      };
      return [opKey('', opType), kernel];
    }),
  ),
};
