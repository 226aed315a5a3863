// Which points of a valid batch the collector stores. Refused, each counted: points dated outside
// [now - retention, now + 10 min] (a clock ten years ahead would own the "last 5 minutes" for good;
// older ones would only be swept away) and points of new series beyond the series caps. The rest
// are stored; the client hears how many were refused through OTLP's partial success.
import type { MetricPoint } from './otlp/points.ts';
import type { SeriesGate } from './store/series-gate.ts';
import { labelValues, seriesKey } from './store/series.ts';

/** How far ahead of our clock a point may be dated (client clocks drift; ten years is a bug or an attack). */
export const MAX_FUTURE_MS = 10 * 60_000;

export interface Admission {
  readonly points: MetricPoint[];
  readonly refusedTime: number;
  readonly refusedSeries: number;
}

export function admitPoints(points: readonly MetricPoint[], nowMs: number, retentionMs: number, gate: SeriesGate): Admission {
  const earliest = nowMs - retentionMs;
  const latest = nowMs + MAX_FUTURE_MS;
  const kept: MetricPoint[] = [];
  let refusedTime = 0;
  let refusedSeries = 0;
  for (const p of points) {
    if (p.timeMs < earliest || p.timeMs > latest) refusedTime++;
    else if (!gate.admit(seriesKey(p.metric, p.attrs), labelValues(p.attrs))) refusedSeries++;
    else kept.push(p);
  }
  return { points: kept, refusedTime, refusedSeries };
}

/** The OTLP ExportMetricsServiceResponse body: {} when all was stored, else partialSuccess. */
export function exportResponse(a: Admission): Record<string, unknown> {
  const rejected = a.refusedTime + a.refusedSeries;
  if (rejected === 0) return {};
  const why: string[] = [];
  if (a.refusedTime) why.push(`${a.refusedTime} dated more than ${MAX_FUTURE_MS / 60_000} min ahead of the collector's clock or older than its retention period`);
  if (a.refusedSeries) why.push(`${a.refusedSeries} of new series beyond the collector's series limits`);
  return { partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: `data points refused: ${why.join('; ')}` } };
}
