// A latency sketch in the OpenTelemetry exponential histogram layout: bucket i holds values in
// (base^i, base^(i+1)] with base = 2^(2^-scale). At scale 5 a bucket's midpoint is within
// (base-1)/(base+1) = 1.08% of any value in it, so every quantile is within 1.1% of the exact one
// (for the same rank). Mergeable (bucket-wise sums), so the collector can add sketches from many
// clients, and small: a factor of 2 in latency spans 32 buckets.
import { fail } from '../../../core/errors.ts';

export const DEFAULT_SCALE = 5;
/** Past this many buckets between the smallest and largest index, the sketch halves its resolution. */
export const MAX_BUCKET_SPAN = 1024;

export interface ExpHistogramData {
  readonly scale: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly zeroCount: number;
  /** index of the first bucket in `counts` */
  readonly offset: number;
  readonly counts: readonly number[];
}

export class ExpHistogram {
  private buckets = new Map<number, number>();
  private lowIndex = Infinity;
  private highIndex = -Infinity;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  zeroCount = 0;

  constructor(public scale: number = DEFAULT_SCALE) {
    if (!Number.isInteger(scale) || scale < -10 || scale > 20) fail('INVALID_ARGUMENT', `histogram scale must be an integer in -10..20, got ${scale}`);
  }

  /** The bucket index of a positive value at this scale (OTel's mapping: upper bounds inclusive). */
  indexOf(value: number): number {
    return Math.ceil(Math.log2(value) * 2 ** this.scale) - 1;
  }

  /** Records a value (latencies: milliseconds, >= 0). NaN, infinities and negatives are ignored. */
  record(value: number, times = 1): void {
    if (!Number.isFinite(value) || value < 0 || times <= 0) return;
    this.count += times;
    this.sum += value * times;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) {
      this.zeroCount += times;
      return;
    }
    this.addToBucket(this.indexOf(value), times);
  }

  private addToBucket(index: number, times: number): void {
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + times);
    if (index < this.lowIndex) this.lowIndex = index;
    if (index > this.highIndex) this.highIndex = index;
    while (this.highIndex - this.lowIndex >= MAX_BUCKET_SPAN) this.downscale(1);
  }

  /** Halves resolution `by` times: bucket i at scale s becomes bucket i >> 1 at scale s - 1. */
  downscale(by: number): void {
    if (by <= 0) return;
    const old = this.buckets;
    this.buckets = new Map();
    this.lowIndex = Infinity;
    this.highIndex = -Infinity;
    this.scale -= by;
    for (const [i, c] of old) {
      const j = i >> by;
      this.buckets.set(j, (this.buckets.get(j) ?? 0) + c);
      if (j < this.lowIndex) this.lowIndex = j;
      if (j > this.highIndex) this.highIndex = j;
    }
  }

  /** Adds another sketch into this one (the coarser scale of the two wins). */
  merge(other: ExpHistogram | ExpHistogramData): void {
    const data = other instanceof ExpHistogram ? other.toData() : other;
    if (data.count === 0) return;
    if (data.scale < this.scale) this.downscale(this.scale - data.scale);
    const shift = data.scale - this.scale;
    this.count += data.count;
    this.sum += data.sum;
    this.min = Math.min(this.min, data.min);
    this.max = Math.max(this.max, data.max);
    this.zeroCount += data.zeroCount;
    data.counts.forEach((c, k) => {
      if (c > 0) this.addToBucket((data.offset + k) >> shift, c);
    });
  }

  /**
   * The value at quantile q (0..1): the midpoint of the bucket holding the value of rank
   * floor(q * (count - 1)) (0-based), clamped to the exact min and max.
   */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (!(q >= 0 && q <= 1)) fail('INVALID_ARGUMENT', `a quantile must be in 0..1, got ${q}`);
    const rank = Math.floor(q * (this.count - 1));
    if (rank < this.zeroCount) return 0;
    let seen = this.zeroCount;
    const base = 2 ** (2 ** -this.scale);
    for (const i of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(i)!;
      if (seen > rank) {
        const lower = base ** i;
        const mid = (lower + lower * base) / 2;
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  get mean(): number {
    return this.count > 0 ? this.sum / this.count : NaN;
  }

  toData(): ExpHistogramData {
    const counts: number[] = [];
    if (this.buckets.size > 0) for (let i = this.lowIndex; i <= this.highIndex; i++) counts.push(this.buckets.get(i) ?? 0);
    return {
      scale: this.scale,
      count: this.count,
      sum: this.sum,
      min: this.count > 0 ? this.min : 0,
      max: this.count > 0 ? this.max : 0,
      zeroCount: this.zeroCount,
      offset: this.buckets.size > 0 ? this.lowIndex : 0,
      counts,
    };
  }

  static fromData(data: ExpHistogramData): ExpHistogram {
    const h = new ExpHistogram(data.scale);
    h.merge(data);
    return h;
  }
}
