// The one shape every loader returns: preprocessed float features (what the model's input sees),
// integer class labels, and what a page needs to reproduce the preprocessing (kept in the bundle).
import type { Preprocessing } from '../../runtime/format/kiln/bundle-spec.ts';
import { permutation, type Rng } from './rng.ts';

export interface Split {
  /** n * prod(sampleShape) values, row-major per sample (images NHWC) */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly n: number;
}

export interface Dataset {
  /** 'mnist', 'iris', 'csv:file.csv', 'images:folder' */
  readonly name: string;
  readonly kind: 'image' | 'tabular';
  /** per sample: [H, W, C] for images (TF.js trains NHWC), [F] for tabular rows */
  readonly sampleShape: readonly number[];
  readonly classes: readonly string[];
  readonly featureNames?: readonly string[];
  readonly preprocessing: Preprocessing;
  readonly train: Split;
  readonly test: Split;
}

export const sampleSize = (d: Pick<Dataset, 'sampleShape'>): number => d.sampleShape.reduce((a, b) => a * b, 1);

/** Rows `idx` of a split, in that order. */
export function take(split: Split, idx: ArrayLike<number>, size: number): Split {
  const x = new Float32Array(idx.length * size);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    x.set(split.x.subarray(r * size, (r + 1) * size), i * size);
    y[i] = split.y[r]!;
  }
  return { x, y, n: idx.length };
}

/** A seeded shuffle of all rows into train and test (for datasets without a given test set). */
export function splitRows(all: Split, size: number, testFraction: number, rng: Rng): { train: Split; test: Split } {
  const order = permutation(all.n, rng);
  const nTest = Math.max(1, Math.round(all.n * testFraction));
  return { test: take(all, order.subarray(0, nTest), size), train: take(all, order.subarray(nTest), size) };
}

/** Keeps the first `limit` rows (quick runs and tests). */
export function limitRows(split: Split, size: number, limit: number | undefined): Split {
  if (limit === undefined || limit >= split.n) return split;
  return { x: split.x.slice(0, limit * size), y: split.y.slice(0, limit), n: limit };
}

/** Column means and standard deviations over the training rows (std 1 for constant columns). */
export function standardizeInPlace(train: Split, test: Split, features: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(features).fill(0);
  const std = new Array<number>(features).fill(0);
  for (let r = 0; r < train.n; r++) for (let f = 0; f < features; f++) mean[f]! += train.x[r * features + f]! / train.n;
  for (let r = 0; r < train.n; r++) for (let f = 0; f < features; f++) std[f]! += (train.x[r * features + f]! - mean[f]!) ** 2 / train.n;
  for (let f = 0; f < features; f++) std[f] = Math.sqrt(std[f]!) || 1;
  for (const s of [train, test]) for (let i = 0; i < s.x.length; i++) s.x[i] = (s.x[i]! - mean[i % features]!) / std[i % features]!;
  return { mean, std };
}
