// Validates an OTLP/HTTP JSON ExportMetricsServiceRequest and flattens it into MetricPoints.
// All or nothing: the first bad field rejects the whole batch with its path, so a client never
// has half a batch stored and a developer sees exactly which field to fix.
import { ATTR, METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { bucketSideProblem, MAX_BUCKETS_PER_SIDE, MAX_POINT_COUNT, scaleProblem } from '../sketch/exp-bounds.ts';
import { asArray, asDouble, asInt64, asObject, asUnixNanoMs, bad, describe, optString, type JsonObject } from './json-fields.ts';
import type { AttrValue, Attributes, BucketRange, MetricPoint, PointKind, Temporality } from './points.ts';

const LIMITS = { resources: 1000, scopes: 1000, metrics: 10_000, points: 10_000, totalPoints: 100_000, attributes: 128, buckets: MAX_BUCKETS_PER_SIDE, bounds: 1024 } as const;
/** Counts are bounded so that sums over a whole store stay exact (and SQLite's SUM cannot overflow). */
const COUNT = { min: 0, max: MAX_POINT_COUNT } as const;

/** Which data field each Kiln metric must use (docs/telemetry.md); other metric names pass as sent. */
const KILN_KINDS: Readonly<Record<string, readonly PointKind[]>> = {
  [METRIC.runLatency]: ['exponentialHistogram', 'histogram'],
  [METRIC.coldStart]: ['exponentialHistogram', 'histogram'],
  [METRIC.runs]: ['sum'],
  [METRIC.runErrors]: ['sum'],
  [METRIC.driftScore]: ['gauge'],
  [METRIC.driftAlerts]: ['sum'],
  [METRIC.droppedBatches]: ['sum'],
};

const TEMPORALITY_NAMES: Readonly<Record<string, Temporality>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

function anyValue(v: unknown, path: string): AttrValue {
  const o = asObject(v, path);
  if ('stringValue' in o) return optString(o.stringValue, `${path}.stringValue`, 4096) ?? '';
  if ('boolValue' in o) {
    if (typeof o.boolValue !== 'boolean') bad(`${path}.boolValue`, `expected true or false, got ${describe(o.boolValue)}`);
    return o.boolValue;
  }
  if ('intValue' in o) return asInt64(o.intValue, `${path}.intValue`);
  if ('doubleValue' in o) return asDouble(o.doubleValue, `${path}.doubleValue`, false);
  // Arrays, key-value lists and bytes are legal OTLP; Kiln keeps them as their JSON text.
  for (const k of ['arrayValue', 'kvlistValue', 'bytesValue']) {
    if (!(k in o)) continue;
    try {
      return (JSON.stringify(o[k]) ?? '').slice(0, 4096);
    } catch {
      return bad(`${path}.${k}`, 'is nested too deeply');
    }
  }
  if (Object.keys(o).length === 0) return ''; // an empty AnyValue is allowed by the spec
  return bad(path, `has none of stringValue, boolValue, intValue, doubleValue, arrayValue, kvlistValue, bytesValue`);
}

function attributes(v: unknown, path: string, into: Record<string, AttrValue>): void {
  const list = asArray(v, path, LIMITS.attributes);
  list.forEach((kv, i) => {
    const p = `${path}[${i}]`;
    const o = asObject(kv, p);
    const key = optString(o.key, `${p}.key`, 256);
    if (!key) bad(`${p}.key`, 'is required (a non-empty string)');
    into[key] = anyValue(o.value ?? {}, `${p}.value`);
  });
}

function temporality(v: unknown, path: string, required: boolean): Temporality {
  let t: number | undefined;
  if (typeof v === 'string' && v in TEMPORALITY_NAMES) t = TEMPORALITY_NAMES[v];
  else if (v !== undefined && v !== null) t = asInt64(v, path);
  if (t === undefined || t === 0) {
    if (required) bad(path, 'is required: 1 (delta) or 2 (cumulative)');
    return 0;
  }
  if (t !== 1 && t !== 2) bad(path, `must be 1 (delta) or 2 (cumulative), got ${String(v)}`);
  return t;
}

/** One side of an exponential histogram at an already checked `scale`. */
function buckets(v: unknown, path: string, scale: number): BucketRange {
  if (v === undefined || v === null) return { offset: 0, counts: [] };
  const o = asObject(v, path);
  const offset = asInt64(o.offset, `${path}.offset`, { optional: true });
  const counts = asArray(o.bucketCounts, `${path}.bucketCounts`, LIMITS.buckets).map((c, i) => asInt64(c, `${path}.bucketCounts[${i}]`, COUNT));
  const problem = bucketSideProblem(scale, { offset, counts });
  if (problem) bad(`${path}.offset`, problem);
  return { offset, counts };
}

const total = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

interface MetricContext {
  readonly name: string;
  readonly unit: string;
  readonly base: Readonly<Record<string, AttrValue>>;
  readonly out: MetricPoint[];
}

function pointCommon(o: JsonObject, p: string, ctx: MetricContext): { attrs: Attributes; timeMs: number; startMs: number } {
  const attrs: Record<string, AttrValue> = { ...ctx.base };
  attributes(o.attributes, `${p}.attributes`, attrs);
  const timeMs = asUnixNanoMs(o.timeUnixNano, `${p}.timeUnixNano`, false);
  // A start after the end is not refused: for delta points it only describes the interval, and
  // senders differ in how they set it (Kiln's drift alerts start at the last flush).
  const startMs = asUnixNanoMs(o.startTimeUnixNano, `${p}.startTimeUnixNano`, true);
  return { attrs, timeMs, startMs };
}

function checkKilnAttributes(ctx: MetricContext, attrs: Attributes, p: string): void {
  if (ctx.name === METRIC.driftScore) {
    if (typeof attrs[ATTR.feature] !== 'string' || attrs[ATTR.feature] === '') bad(`${p}.attributes`, `${METRIC.driftScore} needs a string attribute ${ATTR.feature}`);
    const alert = attrs[ATTR.driftAlert];
    if (alert !== undefined && typeof alert !== 'boolean') bad(`${p}.attributes`, `${ATTR.driftAlert} must be a boolValue`);
  }
}

function scalarPoints(data: JsonObject, path: string, kind: 'sum' | 'gauge', ctx: MetricContext): void {
  const temp = kind === 'sum' ? temporality(data.aggregationTemporality, `${path}.aggregationTemporality`, true) : 0;
  const monotonic = kind === 'sum' && data.isMonotonic === true;
  asArray(data.dataPoints, `${path}.dataPoints`, LIMITS.points).forEach((dp, i) => {
    const p = `${path}.dataPoints[${i}]`;
    const o = asObject(dp, p);
    const common = pointCommon(o, p, ctx);
    let value: number;
    if (o.asDouble !== undefined && o.asDouble !== null) value = asDouble(o.asDouble, `${p}.asDouble`, false);
    else if (o.asInt !== undefined && o.asInt !== null) value = asInt64(o.asInt, `${p}.asInt`);
    else bad(p, 'has neither asDouble nor asInt');
    if (monotonic && value < 0) bad(`${p}.${o.asDouble !== undefined ? 'asDouble' : 'asInt'}`, `a monotonic sum cannot be negative, got ${value}`);
    checkKilnAttributes(ctx, common.attrs, p);
    ctx.out.push({ kind, metric: ctx.name, unit: ctx.unit, temporality: temp, monotonic, value, ...common });
  });
}

function histogramPoints(data: JsonObject, path: string, ctx: MetricContext): void {
  const temp = temporality(data.aggregationTemporality, `${path}.aggregationTemporality`, true);
  asArray(data.dataPoints, `${path}.dataPoints`, LIMITS.points).forEach((dp, i) => {
    const p = `${path}.dataPoints[${i}]`;
    const o = asObject(dp, p);
    const common = pointCommon(o, p, ctx);
    const count = asInt64(o.count, `${p}.count`, { ...COUNT, optional: true });
    const bounds = asArray(o.explicitBounds, `${p}.explicitBounds`, LIMITS.bounds).map((b, j) => asDouble(b, `${p}.explicitBounds[${j}]`, false));
    for (let j = 1; j < bounds.length; j++) if (!(bounds[j]! > bounds[j - 1]!)) bad(`${p}.explicitBounds[${j}]`, 'bounds must be strictly increasing');
    const bucketCounts = asArray(o.bucketCounts, `${p}.bucketCounts`, LIMITS.bounds + 1).map((c, j) => asInt64(c, `${p}.bucketCounts[${j}]`, COUNT));
    if (bucketCounts.length !== 0 && bucketCounts.length !== bounds.length + 1) bad(`${p}.bucketCounts`, `has ${bucketCounts.length} entries; explicitBounds has ${bounds.length}, so it needs ${bounds.length + 1}`);
    if (bucketCounts.length !== 0 && total(bucketCounts) !== count) bad(`${p}.count`, `is ${count} but the buckets hold ${total(bucketCounts)}`);
    ctx.out.push({
      kind: 'histogram', metric: ctx.name, unit: ctx.unit, temporality: temp, count, bounds, bucketCounts,
      sum: asDouble(o.sum, `${p}.sum`, true), min: asDouble(o.min, `${p}.min`, true), max: asDouble(o.max, `${p}.max`, true), ...common,
    });
  });
}

function expHistogramPoints(data: JsonObject, path: string, ctx: MetricContext): void {
  const temp = temporality(data.aggregationTemporality, `${path}.aggregationTemporality`, true);
  asArray(data.dataPoints, `${path}.dataPoints`, LIMITS.points).forEach((dp, i) => {
    const p = `${path}.dataPoints[${i}]`;
    const o = asObject(dp, p);
    const common = pointCommon(o, p, ctx);
    const scale = asInt64(o.scale, `${p}.scale`, { optional: true });
    const scaleBad = scaleProblem(scale);
    if (scaleBad) bad(`${p}.scale`, scaleBad);
    const zeroCount = asInt64(o.zeroCount, `${p}.zeroCount`, { ...COUNT, optional: true });
    const positive = buckets(o.positive, `${p}.positive`, scale);
    const negative = buckets(o.negative, `${p}.negative`, scale);
    const count = asInt64(o.count, `${p}.count`, { ...COUNT, optional: true });
    const held = zeroCount + total(positive.counts) + total(negative.counts);
    if (held !== count) bad(`${p}.count`, `is ${count} but zeroCount and the buckets hold ${held}`);
    ctx.out.push({
      kind: 'exponentialHistogram', metric: ctx.name, unit: ctx.unit, temporality: temp, count, scale, zeroCount, positive, negative,
      sum: asDouble(o.sum, `${p}.sum`, true), min: asDouble(o.min, `${p}.min`, true), max: asDouble(o.max, `${p}.max`, true), ...common,
    });
  });
}

const DATA_FIELDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram'] as const;

function metric(v: unknown, path: string, base: Readonly<Record<string, AttrValue>>, out: MetricPoint[]): void {
  const m = asObject(v, path);
  const name = optString(m.name, `${path}.name`, 255);
  if (!name) bad(`${path}.name`, 'is required (a non-empty string)');
  const present = DATA_FIELDS.filter((f) => m[f] !== undefined && m[f] !== null);
  if (present.length !== 1) bad(path, present.length === 0 ? `metric ${name} has none of sum, gauge, histogram, exponentialHistogram` : `metric ${name} has more than one data field (${present.join(', ')})`);
  const kind = present[0]!;
  const allowed = KILN_KINDS[name];
  if (allowed && !allowed.includes(kind)) bad(`${path}.${kind}`, `metric ${name} must be sent as ${allowed.join(' or ')}, not ${kind}`);
  const ctx: MetricContext = { name, unit: optString(m.unit, `${path}.unit`, 64) ?? '', base, out };
  const data = asObject(m[kind], `${path}.${kind}`);
  if (kind === 'sum' || kind === 'gauge') scalarPoints(data, `${path}.${kind}`, kind, ctx);
  else if (kind === 'histogram') histogramPoints(data, `${path}.${kind}`, ctx);
  else expHistogramPoints(data, `${path}.${kind}`, ctx);
  if (out.length > LIMITS.totalPoints) bad(path, `the batch has more than ${LIMITS.totalPoints} data points`);
}

/** Throws OtlpFieldError naming the first bad field. An empty request is valid (zero points). */
export function parseMetricsRequest(body: unknown): MetricPoint[] {
  const root = asObject(body, '(body)');
  const out: MetricPoint[] = [];
  asArray(root.resourceMetrics, 'resourceMetrics', LIMITS.resources).forEach((rm, r) => {
    const rp = `resourceMetrics[${r}]`;
    const rmo = asObject(rm, rp);
    const resourceAttrs: Record<string, AttrValue> = {};
    if (rmo.resource !== undefined && rmo.resource !== null) attributes(asObject(rmo.resource, `${rp}.resource`).attributes, `${rp}.resource.attributes`, resourceAttrs);
    asArray(rmo.scopeMetrics, `${rp}.scopeMetrics`, LIMITS.scopes).forEach((sm, s) => {
      const sp = `${rp}.scopeMetrics[${s}]`;
      const smo = asObject(sm, sp);
      const scopeAttrs: Record<string, AttrValue> = { ...resourceAttrs };
      if (smo.scope !== undefined && smo.scope !== null) attributes(asObject(smo.scope, `${sp}.scope`).attributes, `${sp}.scope.attributes`, scopeAttrs);
      asArray(smo.metrics, `${sp}.metrics`, LIMITS.metrics).forEach((mv, i) => metric(mv, `${sp}.metrics[${i}]`, scopeAttrs, out));
    });
  });
  return out;
}
