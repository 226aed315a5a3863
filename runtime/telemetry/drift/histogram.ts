// Quantile bins for numeric drift features: edges cut at the reference's quantiles, so each bin
// holds about the same share of the reference (PSI and Jensen-Shannon are best conditioned there).

/** The bin of `value`: the number of edges <= value (values equal to an edge fall right). */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Interior edges for `bins` bins from ascending finite values. Ties collapse (a feature that is 0 in
 * 70% of samples gets one bin for the zeros), and an edge equal to the minimum is dropped since
 * nothing could fall left of it. A constant feature gets two edges around its value so that live
 * values below or above it still land in their own (empty in the reference) bins.
 */
export function quantileEdges(sorted: Float64Array, bins: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  if (min === max) return [min, min + Math.max(Math.abs(min), 1) * 1e-9];
  const edges: number[] = [];
  for (let j = 1; j < bins; j++) {
    const e = sorted[Math.min(n - 1, Math.floor((j * n) / bins))]!;
    if (e > min && (edges.length === 0 || e > edges[edges.length - 1]!)) edges.push(e);
  }
  return edges;
}

export function binCounts(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) counts[binIndex(edges, v)]!++;
  }
  return counts;
}

export interface Moments {
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

/** Moments of ascending finite values (population standard deviation). */
export function moments(sorted: Float64Array): Moments {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = n > 0 ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (sorted[i]! - mean) ** 2;
  return { count: n, mean, std: n > 0 ? Math.sqrt(sq / n) : 0, min: n > 0 ? sorted[0]! : 0, max: n > 0 ? sorted[n - 1]! : 0 };
}

/** The finite entries of `values`, ascending. */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  let n = 0;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}
