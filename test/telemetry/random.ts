// Fresh random data for telemetry tests: a new seed each run (printed on failure through the test
// name), so tests never pass on one lucky fixed sample.
export interface Rng {
  readonly seed: number;
  uniform(): number;
  normal(): number;
  int(n: number): number;
}

/** mulberry32: small, fast, good enough for test data. */
/** KILN_TEST_SEED=<n> replays a failing run's data. */
const fixedSeed = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_TEST_SEED;

export function makeRng(seed = fixedSeed !== undefined ? Number(fixedSeed) : (Math.random() * 2 ** 32) >>> 0): Rng {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
    int: (n) => Math.floor(uniform() * n),
  };
}
