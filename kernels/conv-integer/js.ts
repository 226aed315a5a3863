import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { ConvGeometry } from '../common/conv-attributes.ts';
import { product } from '../common/shape.ts';
import { metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { convIntegerPlan } from './op.ts';

// ---------------------------------------------------------------------------------------------
// CPU core: per (batch, output channel), accumulate weight x shifted-input rows tap by tap over a
// table of input offsets (-1 in padding). Sums are exact in float64 and wrapped to int32 once.
// ---------------------------------------------------------------------------------------------

// Tap tables depend on the geometry only: built once per geometry, not per run.
const tapTables = new Map<string, Int32Array>();
const TAP_TABLE_CACHE = 64;

function cachedTapTable(g: ConvGeometry): Int32Array {
  const key = JSON.stringify([g.inDims, g.outDims, g.kernel, g.strides, g.padBegin, g.dilations]);
  let t = tapTables.get(key);
  if (!t) {
    if (tapTables.size >= TAP_TABLE_CACHE) tapTables.delete(tapTables.keys().next().value!);
    t = tapTable(g);
    tapTables.set(key, t);
  }
  return t;
}

/** One tap whose offsets are the identity: a 1x1 conv with stride 1 and no padding. */
function table0(g: ConvGeometry): boolean {
  return g.strides.every((v) => v === 1) && g.padBegin.every((v) => v === 0) && g.inDims.every((d, i) => d === g.outDims[i]);
}

function tapTable(g: ConvGeometry): Int32Array {
  const s = g.inDims.length;
  const S = product(g.outDims);
  const T = product(g.kernel);
  const table = new Int32Array(T * S);
  const tap = new Array<number>(s).fill(0);
  const o = new Array<number>(s).fill(0);
  for (let t = 0; t < T; t++) {
    o.fill(0);
    for (let p = 0; p < S; p++) {
      let off = 0;
      for (let d = 0; d < s; d++) {
        const pos = o[d]! * g.strides[d]! - g.padBegin[d]! + tap[d]! * g.dilations[d]!;
        if (pos < 0 || pos >= g.inDims[d]!) {
          off = -1;
          break;
        }
        off = off * g.inDims[d]! + pos;
      }
      table[t * S + p] = off;
      for (let d = s - 1; d >= 0 && ++o[d]! === g.outDims[d]!; d--) o[d] = 0;
    }
    for (let d = s - 1; d >= 0 && ++tap[d]! === g.kernel[d]!; d--) tap[d] = 0;
  }
  return table;
}

/** int32 accumulators in output order [N, M, ...spatial]; `bias` (int32 per channel) is added. */
export function intConvCpu(x: AnyTensor, w: AnyTensor, g: ConvGeometry, xzp: number, wzp: Float64Array | undefined, bias?: Float64Array): Float64Array {
  const xs = toNumbers(x);
  if (xzp !== 0) for (let i = 0; i < xs.length; i++) xs[i]! -= xzp;
  const wv = toNumbers(w);
  const S = product(g.outDims);
  const inS = product(g.inDims);
  const T = product(g.kernel);
  const cout = g.coutG * g.group;
  const out = new Float64Array(g.batch * cout * S);
  if (out.length === 0) return out;
  const pointwise = T === 1 && S === inS && table0(g);
  const table = pointwise ? new Int32Array(0) : cachedTapTable(g);
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / g.coutG);
      const acc = out.subarray((n * cout + co) * S, (n * cout + co + 1) * S);
      const z = wzp ? (wzp.length === 1 ? wzp[0]! : wzp[co]!) : 0;
      for (let ci = 0; ci < g.cinG; ci++) {
        const xBase = (n * g.group * g.cinG + grp * g.cinG + ci) * inS;
        const wBase = (co * g.cinG + ci) * T;
        if (pointwise) {
          // 1x1, stride 1, no padding: output position p reads input position p
          const wt = wv[wBase]! - z;
          if (wt !== 0) for (let p = 0; p < S; p++) acc[p]! += wt * xs[xBase + p]!;
          continue;
        }
        for (let t = 0; t < T; t++) {
          const wt = wv[wBase + t]! - z;
          if (wt === 0) continue;
          const row = t * S;
          for (let p = 0; p < S; p++) {
            const off = table[row + p]!;
            if (off >= 0) acc[p]! += wt * xs[xBase + off]!;
          }
        }
      }
      const b = bias ? bias[co]! : 0;
      for (let p = 0; p < S; p++) acc[p] = ((acc[p]! | 0) + b) | 0;
    }
  }
  return out;
}

const convInteger: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const [x, w, xz, wz] = inputs;
  const p = convIntegerPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const acc = intConvCpu(x!, w!, p.geo, xz ? toNumbers(xz)[0]! : 0, wz && toNumbers(wz));
  return [new Tensor('int32', Int32Array.from(acc), p.out.dims)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'ConvInteger')]: convInteger };
