// Choosing the next token from logits: greedy (argmax), or sampling with temperature, top-k and
// top-p from a seeded generator, so a seed reproduces a generation exactly.

import { mulberry32 } from '../../core/mulberry32.ts';

export interface SamplingOptions {
  /** 0 or absent: greedy (argmax); > 0: sample from softmax(logits / temperature) */
  readonly temperature?: number;
  /** sample among the k most likely tokens only */
  readonly topK?: number;
  /** sample among the most likely tokens whose probabilities sum to at least p */
  readonly topP?: number;
}

/** Uniform in [0, 1), reproducible for a 32-bit seed (core/mulberry32.ts). */
export const seededUniform = mulberry32;

/** The first index of the largest value (NaN never wins). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]! || Number.isNaN(logits[best]!)) best = i;
  return best;
}

export function pickToken(logits: ArrayLike<number>, options: SamplingOptions, uniform: () => number): number {
  const temperature = options.temperature ?? 0;
  if (!(temperature > 0)) return argmax(logits);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const k = options.topK !== undefined && options.topK > 0 ? Math.min(options.topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const top = logits[kept[0]!]!;
  const weights = kept.map((i) => Math.exp((logits[i]! - top) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let count = kept.length;
  if (options.topP !== undefined && options.topP < 1) {
    let sum = 0;
    for (count = 0; count < kept.length; ) {
      sum += weights[count++]! / total;
      if (sum >= options.topP) break;
    }
  }
  let mass = 0;
  for (let i = 0; i < count; i++) mass += weights[i]!;
  let r = uniform() * mass;
  for (let i = 0; i < count; i++) {
    r -= weights[i]!;
    if (r < 0) return kept[i]!;
  }
  return kept[count - 1]!;
}
