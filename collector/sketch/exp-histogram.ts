// Merges OTel exponential histograms (any scales) and reads quantiles from the result. At scale s
// bucket i holds values in (base^i, base^(i+1)] with base = 2^(2^-s); merging lowers every input
// to the smallest scale seen (floor(index / 2^shift)), which is exact: each coarse bucket is a union of
// fine ones. Reading a quantile returns the point of its bucket with the smallest worst-case
// relative error, 2*lo*hi/(lo+hi), so the error is at most (base-1)/(base+1): 1.1% at scale 5.
// Inputs are checked first (exp-bounds.ts): one that could not come from real values is skipped.
import { coarserIndex, expHistogramProblem, MIN_SCALE } from './exp-bounds.ts';

export interface ExpHistogramInput {
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly counts: readonly number[] };
  readonly negative: { readonly offset: number; readonly counts: readonly number[] };
  readonly count: number;
  readonly sum?: number | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/** Beyond this many buckets per sign the merge halves its resolution (OTel's default is 160). */
const MAX_BUCKETS = 2048;

function rescale(buckets: Map<number, number>, shift: number): Map<number, number> {
  if (shift === 0) return buckets;
  const out = new Map<number, number>();
  for (const [i, c] of buckets) {
    const j = coarserIndex(i, shift); // floors negative indices too, as the OTel spec requires
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function span(buckets: Map<number, number>): number {
  if (buckets.size === 0) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const i of buckets.keys()) {
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  return hi - lo + 1;
}

export class ExpHistogramMerger {
  private scale = 20;
  private positive = new Map<number, number>();
  private negative = new Map<number, number>();
  private zeroCount = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Inputs that fail the bounds of exp-bounds.ts (stored before they were checked) are skipped. */
  skipped = 0;

  /** Adds `h`; false (and counted in `skipped`) when it is not a histogram real values can make. */
  add(h: ExpHistogramInput): boolean {
    if (expHistogramProblem(h) !== undefined) {
      this.skipped++;
      return false;
    }
    if (h.count === 0) return true;
    if (h.scale < this.scale) this.lowerTo(h.scale);
    const shift = h.scale - this.scale;
    const addSide = (into: Map<number, number>, side: ExpHistogramInput['positive']): void => {
      side.counts.forEach((c, k) => {
        if (c === 0) return;
        const j = coarserIndex(side.offset + k, shift);
        into.set(j, (into.get(j) ?? 0) + c);
      });
    };
    addSide(this.positive, h.positive);
    addSide(this.negative, h.negative);
    this.zeroCount += h.zeroCount;
    this.count += h.count;
    this.sum += h.sum ?? 0;
    if (h.min !== undefined) this.min = Math.min(this.min, h.min);
    if (h.max !== undefined) this.max = Math.max(this.max, h.max);
    while (Math.max(span(this.positive), span(this.negative)) > MAX_BUCKETS && this.scale > MIN_SCALE) this.lowerTo(this.scale - 1);
    return true;
  }

  get currentScale(): number {
    return this.scale;
  }

  private lowerTo(scale: number): void {
    const shift = this.scale - scale;
    this.positive = rescale(this.positive, shift);
    this.negative = rescale(this.negative, shift);
    this.scale = scale;
  }

  /** The q-quantile (0..1) of everything added, or undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.round(Math.min(1, Math.max(0, q)) * (this.count - 1));
    // The extremes are known exactly when the senders gave min and max.
    if (rank === 0 && Number.isFinite(this.min)) return this.min;
    if (rank === this.count - 1 && Number.isFinite(this.max)) return this.max;
    const base = 2 ** (2 ** -this.scale);
    const point = (i: number): number => {
      const lo = base ** i;
      const hi = lo * base;
      return (2 * lo * hi) / (lo + hi);
    };
    // min/max are optional in OTLP; when sent they bound the estimate.
    const clamp = (v: number): number => Math.min(Math.max(v, Number.isFinite(this.min) ? this.min : -Infinity), Number.isFinite(this.max) ? this.max : Infinity);
    let seen = 0;
    // Most negative first: larger negative index = larger magnitude.
    for (const i of [...this.negative.keys()].sort((a, b) => b - a)) {
      seen += this.negative.get(i)!;
      if (seen > rank) return clamp(-point(i));
    }
    seen += this.zeroCount;
    if (seen > rank) return clamp(0);
    for (const i of [...this.positive.keys()].sort((a, b) => a - b)) {
      seen += this.positive.get(i)!;
      if (seen > rank) return clamp(point(i));
    }
    return Number.isFinite(this.max) ? this.max : undefined; // counts disagreed with buckets: be safe
  }
}

/** Bucket index of a positive value at a scale (used by tests and fixtures, by logarithms). */
export function bucketIndex(value: number, scale: number): number {
  return Math.ceil(Math.log2(value) * 2 ** scale) - 1;
}
