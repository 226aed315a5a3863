// Deterministic random numbers: the transformer's weights are the same in every runtime and every
// run (built from a seed); inputs are fresh per bench run but shared by the variants of one model.

/** The trainer's mulberry32 (small, fast, not for cryptography), under the name the bench uses. */
export { createRng as seededRandom } from '../../trainer-node/data/rng.ts';

/** n values uniform in [-scale, scale). */
export function uniform(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** A seed for this bench run, so inputs differ between runs (fresh random inputs, never fixed ones). */
export const RUN_SEED = (Math.random() * 2 ** 32) >>> 0;

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
