// The dashboard's JSON endpoints (GET, read side): /api/filters, /api/overview, /api/latency,
// /api/drift. Query parameters: model, version, backend, deviceClass, from, to (ms since epoch),
// buckets; /api/latency also metric (run | coldStart | an OTLP name) and phase.
import type { ServerResponse } from 'node:http';
import { METRIC } from '../../runtime/telemetry/otlp-schema.ts';
import { sendError, sendJson } from '../http/respond.ts';
import type { Db } from '../store/database.ts';
import { driftReport } from '../store/drift-query.ts';
import type { Filters } from '../store/filters.ts';
import { latencySeries } from '../store/latency-query.ts';
import { filterValues, overview } from '../store/overview-query.ts';

class QueryError extends Error {}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new QueryError(`query parameter ${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

function filtersOf(q: URLSearchParams): Filters {
  const from = intParam(q, 'from', 0, 8.64e15);
  const to = intParam(q, 'to', 0, 8.64e15);
  if (from !== undefined && to !== undefined && from >= to) throw new QueryError('query parameter from must be before to');
  const s = (k: string): string | undefined => q.get(k) ?? undefined;
  return { model: s('model'), version: s('version'), backend: s('backend'), deviceClass: s('deviceClass'), from, to };
}

const LATENCY_METRICS: Readonly<Record<string, string>> = { run: METRIC.runLatency, coldStart: METRIC.coldStart };

/** Answers an /api/ request; false when the path is not one of ours. */
export function handleApi(db: Db, path: string, q: URLSearchParams, res: ServerResponse): boolean {
  try {
    switch (path) {
      case '/api/filters':
        sendJson(res, 200, filterValues(db));
        return true;
      case '/api/overview':
        sendJson(res, 200, overview(db, filtersOf(q)));
        return true;
      case '/api/latency': {
        const name = q.get('metric') ?? 'run';
        const metric = LATENCY_METRICS[name] ?? (Object.values(LATENCY_METRICS).includes(name) ? name : undefined);
        if (!metric) throw new QueryError(`query parameter metric must be one of ${Object.keys(LATENCY_METRICS).join(', ')}, got '${name}'`);
        const phase = q.get('phase') ?? 'total';
        sendJson(res, 200, latencySeries(db, metric, phase === 'all' ? undefined : phase, filtersOf(q), intParam(q, 'buckets', 1, 1000) ?? 60));
        return true;
      }
      case '/api/drift':
        sendJson(res, 200, driftReport(db, filtersOf(q), intParam(q, 'buckets', 1, 1000) ?? 60));
        return true;
      default:
        return false;
    }
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    sendError(res, 400, e.message);
    return true;
  }
}
