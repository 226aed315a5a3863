// mulberry32: a small seeded generator of uniform floats in [0, 1), reproducible for a 32-bit seed.
// The one copy used by generate()'s sampling, the trainer's shuffles and the tests' seeded data.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
