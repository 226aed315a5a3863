// Readers for fields of a parsed JSON document that fail with the path of the offending field,
// so a 400 says exactly what is wrong ("resourceMetrics[0].scopeMetrics[0].metrics[2].gauge.
// dataPoints[1].asDouble: expected a number"). Follows the protobuf JSON mapping OTLP uses:
// int64/uint64 may be strings or numbers, doubles may be "NaN"/"Infinity" strings (refused here).

export class OtlpFieldError extends Error {
  override readonly name = 'OtlpFieldError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

export function bad(path: string, problem: string): never {
  throw new OtlpFieldError(path, problem);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

export function asObject(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, `expected an object, got ${describe(v)}`);
  return v as JsonObject;
}

/** A repeated field: absent or null reads as empty (protobuf JSON allows both). */
export function asArray(v: unknown, path: string, maxLength: number): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad(path, `expected an array, got ${describe(v)}`);
  if (v.length > maxLength) bad(path, `has ${v.length} entries, more than the ${maxLength} allowed`);
  return v;
}

export function optString(v: unknown, path: string, maxLength = 1024): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(path, `expected a string, got ${describe(v)}`);
  if (v.length > maxLength) bad(path, `is longer than ${maxLength} characters`);
  return v;
}

/** A 64-bit integer as string or number; kept as a JS number only while it is exact. */
export function asInt64(v: unknown, path: string, opts: { min?: number; max?: number; optional?: boolean } = {}): number {
  if (v === undefined || v === null) {
    if (opts.optional) return 0;
    bad(path, 'is required');
  }
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) n = Number(v);
  else bad(path, `expected an integer (number or decimal string), got ${describe(v)}`);
  if (!Number.isSafeInteger(n)) bad(path, `${String(v)} is not an integer Kiln can hold exactly (|n| <= 2^53)`);
  if (opts.min !== undefined && n < opts.min) bad(path, `must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) bad(path, `must be <= ${opts.max}, got ${n}`);
  return n;
}

/** Nanoseconds since the epoch (fixed64, usually a string) -> milliseconds. */
export function asUnixNanoMs(v: unknown, path: string, optional: boolean): number {
  if (v === undefined || v === null || v === '0' || v === 0) {
    if (optional) return 0;
    bad(path, 'is required (nanoseconds since the Unix epoch)');
  }
  let nanos: bigint;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) nanos = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) nanos = BigInt(v);
  else bad(path, `expected nanoseconds since the Unix epoch as a decimal string, got ${describe(v)}`);
  if (nanos >= 1n << 64n) bad(path, 'does not fit in 64 bits');
  return Number(nanos / 1_000_000n);
}

export function asDouble(v: unknown, path: string, optional: false): number;
export function asDouble(v: unknown, path: string, optional: true): number | undefined;
export function asDouble(v: unknown, path: string, optional: boolean): number | undefined {
  if (v === undefined || v === null) {
    if (optional) return undefined;
    bad(path, 'is required');
  }
  if (typeof v === 'string' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity')) bad(path, `must be a finite number, got ${v}`);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) bad(path, `expected a finite number, got ${describe(v)}`);
  return n;
}
