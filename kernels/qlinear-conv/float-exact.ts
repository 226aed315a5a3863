import type { DataType } from '../../core/dtype.ts';
import { QUANT_RANGES } from '../common/quant.ts';
import type { MaybeMeta, MaybeTensor } from '../contract.ts';
import { B, W, WZ, XZ } from './op.ts';

// When QLinearConv may run as the float Conv's program over integer-valued floats (webgpu.ts): f32
// holds every integer of magnitude up to 2^24 exactly, so sums that never leave that range are the
// i32 sums whatever their order.

/**
 * The zero points of x and w (w's one per tensor) when every partial sum of (x - xz)(w - wz) plus the
 * bias is an integer of magnitude below 2^24 whatever x holds: then f32 sums are exact in any order.
 * Bounded from the constant weights and bias (max |x - xz| times the largest channel's sum |w - wz|,
 * plus max |bias|); undefined when a needed value is not a plan constant or the bound reaches 2^24.
 */
export function exactInFloat32(inputs: readonly MaybeMeta[], constants: readonly MaybeTensor[], xType: DataType, cout: number, wzPer: boolean): { x: number; w: number } | undefined {
  if ([W, XZ, WZ, B].some((slot) => inputs[slot] && !constants[slot])) return undefined;
  const [w, xzT, wzT, biasT] = [constants[W]!, constants[XZ], constants[WZ], constants[B]];
  const xz = xzT ? Number(xzT.data[0]) : 0;
  const wzs = wzT ? Array.from(wzT.data as ArrayLike<number>, Number) : [0];
  if (wzPer && wzs.some((z) => z !== wzs[0])) return undefined;
  const range = QUANT_RANGES[xType];
  if (!range) return undefined;
  const [lo, hi] = range;
  const perChannel = w.data.length / cout;
  let maxW = 0;
  for (let co = 0; co < cout; co++) {
    let sum = 0;
    for (let k = co * perChannel; k < (co + 1) * perChannel; k++) sum += Math.abs(Number(w.data[k]) - wzs[0]!);
    maxW = Math.max(maxW, sum);
  }
  let maxB = 0;
  if (biasT) for (let c = 0; c < biasT.data.length; c++) maxB = Math.max(maxB, Math.abs(Number(biasT.data[c])));
  return Math.max(xz - lo, hi - xz) * maxW + maxB < 2 ** 24 ? { x: xz, w: wzs[0]! } : undefined;
}

