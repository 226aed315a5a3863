// Synthetic OTLP batches for load runs: what one Kiln page sends per flush (run latency as an
// exponential histogram at scale 5, a run count, drift scores for a few features).
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { bucketIndex } from '../sketch/exp-histogram.ts';

const str = (key: string, v: string): unknown => ({ key, value: { stringValue: v } });
const nanos = (ms: number): string => `${BigInt(Math.round(ms)) * 1_000_000n}`;

export interface SyntheticBatch {
  readonly body: Record<string, unknown>;
  /** the value of kiln.runs in this batch */
  readonly runs: number;
  /** data points in this batch */
  readonly points: number;
}

export function syntheticBatch(client: number, seq: number, timeMs: number): SyntheticBatch {
  const runs = 5 + Math.floor(Math.random() * 40);
  const samples = Array.from({ length: runs }, () => 2 + Math.random() * 30 * Math.random());
  const idx = samples.map((v) => bucketIndex(v, 5));
  const lo = Math.min(...idx);
  const counts = new Array<number>(Math.max(...idx) - lo + 1).fill(0);
  for (const i of idx) counts[i - lo]!++;
  const features = ['f0', 'f1', 'f2', 'f3'];
  return {
    runs,
    points: 2 + features.length,
    body: {
      resourceMetrics: [
        {
          resource: { attributes: [str(ATTR.serviceName, 'load'), str(ATTR.modelName, `model-${client % 3}`), str(ATTR.modelVersion, String(1 + (client % 2))), str(ATTR.backend, client % 2 ? 'cpu' : 'webgpu'), str(ATTR.deviceClass, client % 2 ? 'cpu' : 'gpu-integrated')] },
          scopeMetrics: [
            {
              scope: { name: 'kiln' },
              metrics: [
                { name: METRIC.runLatency, unit: 'ms', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ attributes: [str(ATTR.phase, 'total')], startTimeUnixNano: nanos(timeMs - 5000), timeUnixNano: nanos(timeMs), count: String(runs), sum: samples.reduce((a, b) => a + b, 0), min: Math.min(...samples), max: Math.max(...samples), scale: 5, zeroCount: '0', positive: { offset: lo, bucketCounts: counts.map(String) } }] } },
                { name: METRIC.runs, sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ startTimeUnixNano: nanos(timeMs - 5000), timeUnixNano: nanos(timeMs), asInt: String(runs) }] } },
                { name: METRIC.driftScore, gauge: { dataPoints: features.map((f) => ({ attributes: [str(ATTR.feature, f), str(ATTR.driftTest, 'psi'), { key: ATTR.driftAlert, value: { boolValue: seq % 17 === 0 && f === 'f1' } }], timeUnixNano: nanos(timeMs), asDouble: Math.random() * 0.3 })) } },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** A batch that is valid JSON but breaks the schema in one of several ways. */
export function malformedBatch(seq: number): Record<string, unknown> {
  const t = nanos(Date.now());
  const variants: Record<string, unknown>[] = [
    { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.runs, sum: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: t, asInt: 'many' }] } }] }] }] },
    { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.runLatency, exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: t, count: '5', scale: 5, positive: { offset: 0, bucketCounts: ['1'] } }] } }] }] }] },
    { resourceMetrics: 'nope' },
    { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.driftScore, gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 0.5 }] } }] }] }] },
  ];
  return variants[seq % variants.length]!;
}
