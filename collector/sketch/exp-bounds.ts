// What an exponential histogram may look like before any code turns its buckets into arrays or
// index arithmetic. Checked at ingest (400 naming the field) and again when stored points are
// read back (a point stored by an older collector is skipped, never decoded into a huge array).

/** OTLP allows scales -10..20. */
export const MIN_SCALE = -10;
export const MAX_SCALE = 20;
/** Buckets per side (positive, negative) a point may carry. */
export const MAX_BUCKETS_PER_SIDE = 4096;
/** Largest count a point (or a bucket) may carry: 2^40, so even 100 000 points of a batch sum exactly below 2^53. */
export const MAX_POINT_COUNT = 2 ** 40;

/**
 * Largest |bucket index| any finite double can land in at `scale`. A value v sits in bucket
 * ceil(log2(v) * 2^scale) - 1, and every finite double has |log2 v| < 1075, so indices beyond
 * this bound describe no number at all; inside it they stay below 2^31 even at scale 20.
 */
export function maxBucketIndex(scale: number): number {
  return Math.ceil(1075 * 2 ** scale);
}

export interface BucketSide {
  readonly offset: number;
  readonly counts: readonly number[];
}

/** Why a side cannot be used at `scale`, or undefined when it can. */
export function bucketSideProblem(scale: number, side: BucketSide, maxBuckets = MAX_BUCKETS_PER_SIDE): string | undefined {
  if (side.counts.length > maxBuckets) return `has ${side.counts.length} buckets, more than ${maxBuckets}`;
  if (side.counts.length === 0) return undefined;
  const limit = maxBucketIndex(scale);
  const last = side.offset + side.counts.length - 1;
  if (!Number.isSafeInteger(side.offset) || side.offset < -limit || last > limit) {
    return `buckets ${side.offset}..${last} lie outside [${-limit}, ${limit}], the indices a finite value can have at scale ${scale}`;
  }
  return undefined;
}

export function scaleProblem(scale: number): string | undefined {
  return Number.isInteger(scale) && scale >= MIN_SCALE && scale <= MAX_SCALE ? undefined : `must be in [${MIN_SCALE}, ${MAX_SCALE}], got ${scale}`;
}

/** Index of bucket `i` at a scale `shift` steps coarser: floor(i / 2^shift), exact for any safe integer (no 32-bit `>>`). */
export function coarserIndex(i: number, shift: number): number {
  return shift === 0 ? i : Math.floor(i / 2 ** shift);
}

const okCount = (c: number): boolean => Number.isSafeInteger(c) && c >= 0 && c <= MAX_POINT_COUNT;

/**
 * The checks that keep index arithmetic and counts sound, on a whole decoded histogram: scale,
 * bucket indices, every count. (The bucket-count cap is ingest's: a long list already in memory
 * costs the Map-based merge only its length.)
 */
export function expHistogramProblem(h: { readonly scale: number; readonly zeroCount: number; readonly count: number; readonly positive: BucketSide; readonly negative: BucketSide }): string | undefined {
  const s = scaleProblem(h.scale);
  if (s) return `scale ${s}`;
  for (const [name, side] of [['positive', h.positive], ['negative', h.negative]] as const) {
    if (!Array.isArray(side.counts)) return `${name} has no bucket list`;
    const p = bucketSideProblem(h.scale, side, Infinity);
    if (p) return `${name} ${p}`;
    if (!side.counts.every(okCount)) return `${name} has a bucket count that is not an integer in [0, 2^40]`;
  }
  if (!okCount(h.zeroCount) || !okCount(h.count)) return 'count or zeroCount is not an integer in [0, 2^40]';
  return undefined;
}
