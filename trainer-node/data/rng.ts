// A small seeded PRNG (mulberry32): shuffles, splits and batch orders are reproducible from --seed
// without depending on TF.js's global random state.
import { mulberry32 } from '../../core/mulberry32.ts';

export type Rng = () => number;

export const createRng: (seed: number) => Rng = mulberry32;

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
