// Magnitude pruning on the gradual schedule of Zhu & Gupta (2017): sparsity rises as
// s(t) = s_final * (1 - (1 - progress)^3) while training continues, so the network adapts to each
// cut. The 2:4 option keeps the 2 largest of every 4 consecutive weights along the reduction axis
// (the layout sparse tensor cores use). Masks are frozen once pruning ends; QAT fine-tunes under them.
import * as tf from '@tensorflow/tfjs';
import type { Net, ParamLayer } from './net.ts';
import { paramLayers } from './net.ts';

export type PruneConfig = { readonly kind: 'magnitude'; readonly sparsity: number } | { readonly kind: '2:4' };

// Layers this small (e.g. a first conv with 144 weights) lose accuracy fast and save nothing.
const MIN_PRUNED_WEIGHTS = 1000;

export const prunable = (net: Net): ParamLayer[] => paramLayers(net).filter((l) => l.w.size >= MIN_PRUNED_WEIGHTS);

/** The cubic schedule: 0 at progress 0, `final` at progress >= 1. */
export function scheduledSparsity(final: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  return final * (1 - (1 - p) ** 3);
}

/** Mask keeping the largest-magnitude (1 - sparsity) share of w (ties at the threshold are pruned). */
export function magnitudeMask(w: tf.Tensor, sparsity: number): tf.Tensor {
  const values = w.abs().dataSync() as Float32Array;
  const k = Math.floor(values.length * sparsity);
  if (k === 0) return tf.onesLike(w);
  const threshold = Float32Array.from(values).sort()[k - 1]!;
  return tf.tidy(() => tf.cast(tf.greater(tf.abs(w), threshold), 'float32'));
}

/** 2:4 mask along the reduction axis: dense [k, n] groups rows of k; conv [kh, kw, ci, co] groups ci. */
export function twoFourMask(w: tf.Tensor): tf.Tensor {
  const shape = w.shape;
  const n = shape[shape.length - 1]!;
  const rows = w.size / n; // reduction length (kh * kw * ci), row-major before the output axis
  const a = w.dataSync() as Float32Array;
  const mask = new Float32Array(a.length);
  // Groups never straddle a conv tap: a conv's reduction runs over ci within each (kh, kw).
  const segment = shape.length === 4 ? shape[2]! : rows;
  for (let col = 0; col < n; col++) {
    for (let s0 = 0; s0 < rows; s0 += segment) {
      for (let g0 = 0; g0 < segment; g0 += 4) {
        const idx = Array.from({ length: Math.min(4, segment - g0) }, (_, j) => (s0 + g0 + j) * n + col);
        idx.sort((x, y) => Math.abs(a[y]!) - Math.abs(a[x]!));
        for (const i of idx.slice(0, 2)) mask[i] = 1;
      }
    }
  }
  return tf.tensor(mask, shape);
}

/** Recomputes every prunable layer's mask for `sparsity` (magnitude) or the 2:4 pattern, and zeroes the pruned weights. */
export function applyPruning(net: Net, config: PruneConfig, sparsity: number): void {
  for (const l of prunable(net)) {
    const mask = config.kind === '2:4' ? twoFourMask(l.w) : magnitudeMask(l.w, sparsity);
    l.mask?.dispose();
    l.mask = mask;
    tf.tidy(() => l.w.assign(tf.mul(l.w, mask)));
  }
}

/** After an optimizer step: pruned weights stay exactly zero. */
export function reapplyMasks(net: Net): void {
  for (const l of paramLayers(net)) if (l.mask) tf.tidy(() => l.w.assign(tf.mul(l.w, l.mask!)));
}

/** Share of zero weights over all conv/dense weights (biases excluded). */
export function measureSparsity(net: Net): { zeros: number; total: number; sparsity: number } {
  let zeros = 0;
  let total = 0;
  for (const l of paramLayers(net)) {
    const a = l.w.dataSync();
    total += a.length;
    for (const v of a) if (v === 0) zeros++;
  }
  return { zeros, total, sparsity: total ? zeros / total : 0 };
}
