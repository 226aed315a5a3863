// The dashboard's filters (model, version, backend, device class, time range) as SQL conditions.
// Column names come only from this table, values only as bound parameters.

export interface Filters {
  readonly model?: string | undefined;
  readonly version?: string | undefined;
  readonly backend?: string | undefined;
  readonly deviceClass?: string | undefined;
  /** inclusive, milliseconds since the epoch */
  readonly from?: number | undefined;
  /** exclusive */
  readonly to?: number | undefined;
}

const COLUMNS = { model: 'model', version: 'version', backend: 'backend', deviceClass: 'device_class' } as const;

export interface Where {
  readonly sql: string;
  readonly params: (string | number)[];
}

export function whereClause(f: Filters, base: readonly [string, ...(string | number)[]][]): Where {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const [sql, ...ps] of base) {
    parts.push(sql);
    params.push(...ps);
  }
  for (const [key, col] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    const v = f[key];
    if (v !== undefined && v !== '') {
      parts.push(`${col} = ?`);
      params.push(v);
    }
  }
  if (f.from !== undefined) {
    parts.push('time_ms >= ?');
    params.push(f.from);
  }
  if (f.to !== undefined) {
    parts.push('time_ms < ?');
    params.push(f.to);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** A bucket width that reads well on an axis, giving about `target` buckets over the range. */
export function niceBucketMs(rangeMs: number, target: number): number {
  const steps = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400].map((s) => s * 1000);
  const want = rangeMs / Math.max(1, target);
  return steps.find((s) => s >= want) ?? steps[steps.length - 1]!;
}
