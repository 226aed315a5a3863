// Distances between a window of live values and the reference, per feature.
import type { NumericFeatureReference } from './drift-reference.ts';

/**
 * Population stability index over the bins: sum (q - p) ln(q / p). Counts get +0.5 each (Jeffreys)
 * so an empty bin on either side gives a large but finite score.
 */
export function psi(window: readonly number[], reference: readonly number[]): number {
  const k = window.length;
  const W = window.reduce((a, b) => a + b, 0) + 0.5 * k;
  const R = reference.reduce((a, b) => a + b, 0) + 0.5 * k;
  let s = 0;
  for (let i = 0; i < k; i++) {
    const q = (window[i]! + 0.5) / W;
    const p = (reference[i]! + 0.5) / R;
    s += (q - p) * Math.log(q / p);
  }
  return s;
}

/** Jensen-Shannon distance (square root of the divergence in bits): 0 same, 1 disjoint. */
export function jsDistance(window: readonly number[], reference: readonly number[]): number {
  const W = window.reduce((a, b) => a + b, 0);
  const R = reference.reduce((a, b) => a + b, 0);
  if (W === 0 || R === 0) return 0;
  let d = 0;
  for (let i = 0; i < window.length; i++) {
    const q = window[i]! / W;
    const p = reference[i]! / R;
    const m = (p + q) / 2;
    if (q > 0) d += 0.5 * q * Math.log2(q / m);
    if (p > 0) d += 0.5 * p * Math.log2(p / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, d)));
}

/**
 * The reference's quantile function, piecewise linear through (0, min), (share below edge k, edge k)
 * and (1, max): what the quantile bins remember of the reference's shape.
 */
export function referenceQuantiles(ref: NumericFeatureReference): { u: number[]; x: number[] } {
  const u = [0];
  const x = [ref.min];
  let below = 0;
  ref.edges.forEach((edge, k) => {
    below += ref.counts[k]!;
    const share = below / ref.count;
    if (edge >= ref.min && edge <= ref.max && share > u[u.length - 1]! && share < 1) {
      u.push(share);
      x.push(edge);
    }
  });
  u.push(1);
  x.push(ref.max);
  return { u, x };
}

function interpolate(u: readonly number[], x: readonly number[], at: number): number {
  let lo = 0;
  let hi = u.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (u[mid]! <= at) lo = mid;
    else hi = mid;
  }
  const span = u[hi]! - u[lo]!;
  return span > 0 ? x[lo]! + ((x[hi]! - x[lo]!) * (at - u[lo]!)) / span : x[lo]!;
}

/**
 * Wasserstein-1 distance between the window's values (ascending) and the reference, divided by the
 * reference's standard deviation: 0.5 means "moved by half a standard deviation". The bins keep
 * nothing of the shape of the two outer bins, so the distance is taken over the quantiles between
 * the first and last edge (the central 80% with 10 bins) and divided by that share: a pure shift
 * still reads as itself, and the guessed tails add no bias.
 */
export function normalizedWasserstein(sortedWindow: Float64Array, ref: NumericFeatureReference, quantiles = referenceQuantiles(ref)): number {
  const n = sortedWindow.length;
  if (n === 0) return 0;
  const { u, x } = quantiles;
  let lo = u.length > 3 ? u[1]! : 0;
  let hi = u.length > 3 ? u[u.length - 2]! : 1;
  if (!(hi > lo)) [lo, hi] = [0, 1];
  let total = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const at = (i + 0.5) / n;
    if (at < lo || at > hi) continue;
    total += Math.abs(sortedWindow[i]! - interpolate(u, x, at));
    used++;
  }
  if (used === 0) return 0;
  const scale = ref.std > 0 ? ref.std : Math.max(Math.abs(ref.mean), 1) * 1e-9;
  return total / used / scale;
}
