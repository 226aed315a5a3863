// Seeded random data for tests. The run has one base seed (scripts/run-tests.ts picks it fresh,
// prints it, and passes it on as KILN_TEST_SEED); each test file, and each test where order could
// vary, draws from its own stream derived from the base seed and a stable name. So one seed replays
// the whole run, and a single file run alone with that seed draws the same values. Browser tests
// draw in Node and pass the values into page.evaluate, so pages need no generator of their own.
import { randomInt } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.ts';

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

/** mulberry32: small and fast, plenty for test data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

let base: number | undefined;

/** The run's base seed: KILN_TEST_SEED when given, else a fresh one (printed, so it can be replayed). */
export function baseSeed(): number {
  if (base !== undefined) return base;
  const given = process.env.KILN_TEST_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new Error(`KILN_TEST_SEED must be an integer in 0..2^32-1, got '${given}'`);
    base = n;
  } else {
    base = randomInt(2 ** 32 - 1);
    console.log(`random test data: KILN_TEST_SEED=${base} (not given; replay with it)`);
  }
  return base;
}

/** FNV-1a over the text, then one mulberry32 step to spread the bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return Math.floor(mulberry32(h)() * 2 ** 32) >>> 0;
}

/** A file URL (import.meta.url) becomes its repository-relative path, so names do not depend on the checkout's place. */
function stableName(part: string): string {
  return part.startsWith('file:') ? relative(repoRoot, fileURLToPath(part)).split('\\').join('/') : part;
}

/** The seed of the stream named by `parts` (e.g. import.meta.url, then a test's name). */
export function seedFor(...parts: string[]): number {
  return hash32(`${baseSeed()}:${parts.map(stableName).join('/')}`);
}

/**
 * A stream of its own for a file (`testRng(import.meta.url)`) or a test
 * (`testRng(import.meta.url, 'its name')`): the same values for the same base seed, whatever else ran.
 */
export function testRng(...parts: string[]): Rng {
  return makeRng(seedFor(...parts));
}
