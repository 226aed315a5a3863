// The collector's normalized form of one OTLP metric data point: resource, scope and point
// attributes merged (the point wins), times in milliseconds, int64 counts as JS numbers.

export type AttrValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttrValue>>;

/** AggregationTemporality: 0 unspecified (gauges), 1 delta, 2 cumulative. */
export type Temporality = 0 | 1 | 2;

export interface BucketRange {
  /** index of the first bucket (OTLP `offset`) */
  readonly offset: number;
  readonly counts: readonly number[];
}

interface PointBase {
  readonly metric: string;
  readonly unit: string;
  readonly attrs: Attributes;
  readonly timeMs: number;
  readonly startMs: number;
  readonly temporality: Temporality;
}

export interface ScalarPoint extends PointBase {
  readonly kind: 'sum' | 'gauge';
  readonly monotonic: boolean;
  readonly value: number;
}

export interface HistogramPoint extends PointBase {
  readonly kind: 'histogram';
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly bounds: readonly number[];
  readonly bucketCounts: readonly number[];
}

export interface ExpHistogramPoint extends PointBase {
  readonly kind: 'exponentialHistogram';
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: BucketRange;
  readonly negative: BucketRange;
}

export type MetricPoint = ScalarPoint | HistogramPoint | ExpHistogramPoint;
export type PointKind = MetricPoint['kind'];
