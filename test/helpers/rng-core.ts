// The seeded generator itself, with no Node imports, so browser pages can bundle it
// (test/wasm/pages). test/helpers/random.ts derives the seeds (KILN_TEST_SEED) and re-exports it.

import { mulberry32 } from '../../core/mulberry32.ts';

export interface Rng {
  /** the stream's own seed (derived from the base seed and the stream's name) */
  readonly seed: number;
  /** uniform in [0, 1) */
  uniform(): number;
  /** standard normal (Box-Muller) */
  normal(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** uniform in [lo, hi) */
  range(lo: number, hi: number): number;
  /** integer in [lo, hi) */
  intRange(lo: number, hi: number): number;
  /** n integers in [lo, hi) */
  ints(n: number, lo: number, hi: number): number[];
  /** n floats uniform in [lo, hi) */
  floats(n: number, lo: number, hi: number): number[];
  bytes(n: number): Uint8Array;
  pick<T>(items: readonly T[]): T;
}


export function makeRng(seed: number): Rng {
  const uniform = mulberry32(seed);
  const int = (n: number): number => Math.floor(uniform() * n);
  return {
    seed: seed >>> 0,
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
    int,
    range: (lo, hi) => lo + uniform() * (hi - lo),
    intRange: (lo, hi) => lo + int(hi - lo),
    ints: (n, lo, hi) => Array.from({ length: n }, () => lo + int(hi - lo)),
    floats: (n, lo, hi) => Array.from({ length: n }, () => lo + uniform() * (hi - lo)),
    bytes: (n) => Uint8Array.from({ length: n }, () => int(256)),
    pick: (items) => items[int(items.length)]!,
  };
}

export { mulberry32 };
