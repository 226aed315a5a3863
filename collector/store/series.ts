// A series is one metric with one full set of attributes (one cumulative stream, one Prometheus
// line). Its key and the label columns it is filtered and grouped by, shared by the writer and
// the series caps so both see the same series.
import { createHash } from 'node:crypto';
import { ATTR } from '../../runtime/telemetry/otlp-schema.ts';
import type { Attributes, AttrValue } from '../otlp/points.ts';

export function seriesKey(metric: string, attrs: Attributes): string {
  const canonical = JSON.stringify([metric, ...Object.keys(attrs).sort().map((k) => [k, attrs[k]])]);
  return createHash('sha1').update(canonical).digest('base64url');
}

/** The label columns of `points` and `series`, in this order, with the attribute each comes from. */
export const LABEL_COLUMNS = [
  ['model', ATTR.modelName],
  ['version', ATTR.modelVersion],
  ['backend', ATTR.backend],
  ['device_class', ATTR.deviceClass],
  ['phase', ATTR.phase],
  ['feature', ATTR.feature],
  ['drift_test', ATTR.driftTest],
  ['error_code', ATTR.errorCode],
  ['service', ATTR.serviceName],
] as const;

export type LabelColumn = (typeof LABEL_COLUMNS)[number][0];

const str = (v: AttrValue | undefined): string | null => (v === undefined ? null : String(v));

export function labelValues(attrs: Attributes): Record<LabelColumn, string | null> {
  const out = {} as Record<LabelColumn, string | null>; // filled for every column just below
  for (const [col, attr] of LABEL_COLUMNS) out[col] = str(attrs[attr]);
  return out;
}
