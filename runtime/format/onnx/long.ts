import { fail } from '../../../core/errors.ts';

/** protobufjs yields int64 fields as Long objects (with the `long` package) or plain numbers. */
export type LongLike = number | { low: number; high: number; unsigned?: boolean };

export function longToBigInt(v: LongLike, unsigned = false): bigint {
  if (typeof v === 'number') return BigInt(v);
  const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned || v.unsigned ? big : BigInt.asIntN(64, big);
}

/** An int64 that must fit a JS number exactly (dims, attribute ints, versions). */
export function longToNumber(v: LongLike, where: string): number {
  if (typeof v === 'number') return v;
  const big = longToBigInt(v);
  // Attribute ints such as Slice ends use INT64_MAX/MIN as "to the end": clamp those instead of failing.
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) return big >= 2n ** 62n ? Number.MAX_SAFE_INTEGER : fail('INVALID_MODEL', `${where}: integer ${big} exceeds 2^53`);
  if (big < BigInt(Number.MIN_SAFE_INTEGER)) return big <= -(2n ** 62n) ? Number.MIN_SAFE_INTEGER : fail('INVALID_MODEL', `${where}: integer ${big} exceeds 2^53`);
  return Number(big);
}
