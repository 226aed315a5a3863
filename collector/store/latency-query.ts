// Latency percentiles over time: exponential-histogram points of one metric (and phase), merged
// per time bucket. Cumulative streams are first turned into deltas, so every observation counts
// once whichever temporality the client chose.
import { expHistogramProblem } from '../sketch/exp-bounds.ts';
import { subtractExp } from '../sketch/exp-delta.ts';
import { ExpHistogramMerger, type ExpHistogramInput } from '../sketch/exp-histogram.ts';
import type { Db } from './database.ts';
import { niceBucketMs, whereClause, type Filters } from './filters.ts';

export interface LatencyBucket {
  readonly t: number;
  readonly count: number;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
}

export interface LatencySeries {
  readonly metric: string;
  readonly phase: string | undefined;
  readonly bucketMs: number;
  readonly from: number;
  readonly to: number;
  readonly buckets: LatencyBucket[];
  readonly overall: Omit<LatencyBucket, 't'> & { readonly mean: number | undefined };
}

interface Row {
  time_ms: number;
  start_ms: number;
  temporality: number;
  series: string;
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  data: string;
  model: string | null;
  version: string | null;
  backend: string | null;
  device_class: string | null;
  phase: string | null;
}

/** Who reported a point: the dimensions /metrics labels latency with. */
export interface PointDims {
  readonly model: string;
  readonly version: string;
  readonly backend: string;
  readonly device_class: string;
  readonly phase: string;
}

export interface DeltaPoint {
  readonly time: number;
  readonly h: ExpHistogramInput;
  readonly dims: PointDims;
}

interface StoredExp {
  s: number;
  z: number;
  p: [number, number[]];
  n: [number, number[]];
}

/** Rows read per query: bounds the work (and memory) of one dashboard request or scrape. */
export const MAX_LATENCY_ROWS = 200_000;

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const side = (v: unknown): { offset: number; counts: number[] } =>
  Array.isArray(v) && Array.isArray(v[1]) ? { offset: num(v[0]), counts: (v[1] as unknown[]).map(num) } : { offset: NaN, counts: [] };

/**
 * A stored point back as a histogram, or undefined when it is not one real values can make:
 * points stored before ingest checked their bounds must not crash every later read.
 */
function decode(r: Row): ExpHistogramInput | undefined {
  let d: Partial<StoredExp>;
  try {
    d = JSON.parse(r.data) as Partial<StoredExp>;
  } catch {
    return undefined;
  }
  if (typeof d !== 'object' || d === null) return undefined;
  const h: ExpHistogramInput = {
    scale: num(d.s), zeroCount: num(d.z), positive: side(d.p), negative: side(d.n),
    count: r.count, sum: r.sum ?? undefined, min: r.min ?? undefined, max: r.max ?? undefined,
  };
  return expHistogramProblem(h) === undefined ? h : undefined;
}

/** Exponential-histogram points as deltas, oldest first. */
export function latencyDeltas(db: Db, metric: string, phase: string | undefined, f: Filters): DeltaPoint[] {
  const base: [string, ...(string | number)[]][] = [['metric = ?', metric], ["kind = 'exponentialHistogram'"]];
  if (phase !== undefined && phase !== '') base.push(['phase = ?', phase]);
  const w = whereClause(f, base);
  const rows = db.prepare(`SELECT time_ms, start_ms, temporality, series, count, sum, min, max, data, model, version, backend, device_class, phase FROM points ${w.sql} ORDER BY time_ms DESC LIMIT ${MAX_LATENCY_ROWS}`).all(...w.params).reverse() as Row[];
  const last = new Map<string, { start: number; h: ExpHistogramInput }>();
  if (f.from !== undefined && rows.some((r) => r.temporality === 2)) {
    // A cumulative stream's first point in the range is measured against its last point before it.
    const wp = whereClause({ ...f, from: undefined, to: f.from }, [...base, ['temporality = 2']]);
    const before = db.prepare(`SELECT * FROM (SELECT time_ms, start_ms, temporality, series, count, sum, min, max, data,
        ROW_NUMBER() OVER (PARTITION BY series ORDER BY time_ms DESC) AS rn FROM points ${wp.sql}) WHERE rn = 1 LIMIT ${MAX_LATENCY_ROWS}`).all(...wp.params) as Row[];
    for (const r of before) {
      const h = decode(r);
      if (h) last.set(r.series, { start: r.start_ms, h });
    }
  }
  const out: DeltaPoint[] = [];
  for (const r of rows) {
    const h = decode(r);
    if (!h) continue;
    const dims = { model: r.model ?? '', version: r.version ?? '', backend: r.backend ?? '', device_class: r.device_class ?? '', phase: r.phase ?? '' };
    if (r.temporality !== 2) {
      out.push({ time: r.time_ms, h, dims });
      continue;
    }
    const prev = last.get(r.series);
    last.set(r.series, { start: r.start_ms, h });
    out.push({ time: r.time_ms, h: prev && prev.start === r.start_ms ? subtractExp(h, prev.h) : h, dims });
  }
  return out;
}

function summarize(m: ExpHistogramMerger): Omit<LatencyBucket, 't'> {
  return { count: m.count, p50: m.quantile(0.5), p90: m.quantile(0.9), p99: m.quantile(0.99) };
}

export function latencySeries(db: Db, metric: string, phase: string | undefined, f: Filters, targetBuckets = 60): LatencySeries {
  const points = latencyDeltas(db, metric, phase, f);
  // Buckets follow the data actually in the range, so ten minutes of data in a 24-hour view still
  // get minute buckets.
  const from = points[0]?.time ?? f.from ?? 0;
  const to = points.length ? points[points.length - 1]!.time + 1 : (f.to ?? from + 1);
  const bucketMs = niceBucketMs(to - from, targetBuckets);
  const byBucket = new Map<number, ExpHistogramMerger>();
  const all = new ExpHistogramMerger();
  for (const p of points) {
    const t = Math.floor(p.time / bucketMs) * bucketMs;
    let m = byBucket.get(t);
    if (!m) byBucket.set(t, (m = new ExpHistogramMerger()));
    m.add(p.h);
    all.add(p.h);
  }
  const buckets = [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([t, m]) => ({ t, ...summarize(m) }));
  return { metric, phase, bucketMs, from, to, buckets, overall: { ...summarize(all), mean: all.count ? all.sum / all.count : undefined } };
}
