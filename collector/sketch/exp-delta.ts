// Turns cumulative exponential histograms (OTel's default in many SDKs) into per-interval deltas:
// each point minus the previous point of the same stream, both brought to the coarser scale.
// Index arithmetic is by division (coarserIndex), never a 32-bit shift: `>>` wraps indices near
// 2^31 to negative ones and turned one crafted point into an array of 2^31 entries.
import { coarserIndex } from './exp-bounds.ts';
import type { ExpHistogramInput } from './exp-histogram.ts';

function toMap(side: ExpHistogramInput['positive'], shift: number): Map<number, number> {
  const m = new Map<number, number>();
  side.counts.forEach((c, k) => {
    const j = coarserIndex(side.offset + k, shift);
    m.set(j, (m.get(j) ?? 0) + c);
  });
  return m;
}

function fromMap(m: Map<number, number>, maxWidth: number): ExpHistogramInput['positive'] {
  if (m.size === 0) return { offset: 0, counts: [] };
  const keys = [...m.keys()];
  const lo = Math.min(...keys);
  const width = Math.max(...keys) - lo + 1;
  // Keys come from one input side, coarsened: never wider than it (the array is as big as its input).
  if (!(width <= maxWidth)) throw new RangeError(`a delta histogram would span ${width} buckets, its input ${maxWidth}`);
  const counts = new Array<number>(width).fill(0);
  for (const [k, c] of m) counts[k - lo] = c;
  return { offset: lo, counts };
}

/** cur - prev, bucket by bucket (negative differences, from a reset we missed, count as 0). */
export function subtractExp(cur: ExpHistogramInput, prev: ExpHistogramInput): ExpHistogramInput {
  const scale = Math.min(cur.scale, prev.scale);
  const diff = (a: ExpHistogramInput['positive'], b: ExpHistogramInput['positive']): ExpHistogramInput['positive'] => {
    const m = toMap(a, cur.scale - scale);
    // Only buckets the newer snapshot has: the result never spans more than its input (a hostile
    // earlier point far away cannot make a huge array).
    for (const [k, c] of toMap(b, prev.scale - scale)) if (m.has(k)) m.set(k, Math.max(0, m.get(k)! - c));
    return fromMap(m, a.counts.length);
  };
  const positive = diff(cur.positive, prev.positive);
  const negative = diff(cur.negative, prev.negative);
  const zeroCount = Math.max(0, cur.zeroCount - prev.zeroCount);
  const sumOf = (s: ExpHistogramInput['positive']): number => s.counts.reduce((x, y) => x + y, 0);
  // min and max of an interval are unknown from two cumulative snapshots: leave them out.
  return { scale, zeroCount, positive, negative, count: zeroCount + sumOf(positive) + sumOf(negative), sum: (cur.sum ?? 0) - (prev.sum ?? 0) };
}
