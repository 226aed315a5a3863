// Builds the drift reference a bundle carries, from samples of the model's inputs and outputs (the
// training set for `kiln train`, the calibration data for `kiln compress`). Feature values come
// from extractFeature, the same code the live monitor runs.
import { fail } from '../../../core/errors.ts';
import type { CategoricalFeatureReference, DriftReference, FeatureReference, NumericFeatureReference } from './drift-reference.ts';
import { extractFeature } from './extract-features.ts';
import { binCounts, moments, quantileEdges, sortedFinite } from './histogram.ts';
import {
  MAX_FEATURES_PER_TENSOR,
  columnFeatures,
  planInput,
  planOutput,
  widestColumns,
  type InputFeatureOptions,
  type OutputFeatureOptions,
  type PlannedFeature,
  type TensorPlan,
} from './plan-features.ts';
import { elementReader, sampleCount, sampleSize, type TensorView } from './tensor-values.ts';

export type { InputFeatureOptions, OutputFeatureOptions } from './plan-features.ts';

/** One batch of samples: every tensor has the samples along axis 0, the same count in all. */
export interface DriftSamples {
  readonly inputs: Readonly<Record<string, TensorView>>;
  readonly outputs: Readonly<Record<string, TensorView>>;
}

export interface DriftReferenceOptions {
  /** where the samples came from, e.g. 'mnist train (60000)', 'calibration (512 images)' */
  readonly origin: string;
  /** bins per numeric feature, cut at reference quantiles; default 10 */
  readonly bins?: number;
  readonly inputs?: Readonly<Record<string, InputFeatureOptions>>;
  readonly outputs?: Readonly<Record<string, OutputFeatureOptions>>;
}

export const DEFAULT_BINS = 10;

function checkOptions(options: DriftReferenceOptions, first: DriftSamples): number {
  const bins = options.bins ?? DEFAULT_BINS;
  if (!Number.isInteger(bins) || bins < 2 || bins > 1000) fail('INVALID_ARGUMENT', `drift reference bins must be an integer in 2..1000, got ${bins}`);
  if (typeof options.origin !== 'string') fail('INVALID_ARGUMENT', 'drift reference needs an origin string');
  for (const name of Object.keys(options.inputs ?? {})) if (!(name in first.inputs)) fail('INVALID_ARGUMENT', `drift options name input '${name}', which the samples do not have`);
  for (const name of Object.keys(options.outputs ?? {})) if (!(name in first.outputs)) fail('INVALID_ARGUMENT', `drift options name output '${name}', which the samples do not have`);
  return bins;
}

function checkBatch(batch: DriftSamples, index: number, first: DriftSamples): number {
  let n = -1;
  for (const group of [batch.inputs, batch.outputs]) {
    for (const [name, tensor] of Object.entries(group)) {
      const count = sampleCount(tensor);
      if (n >= 0 && count !== n) fail('INVALID_ARGUMENT', `drift samples batch ${index}: '${name}' has ${count} samples, other tensors ${n}`);
      n = count;
    }
  }
  const names = (s: DriftSamples): string => [...Object.keys(s.inputs), '|', ...Object.keys(s.outputs)].sort().join(',');
  if (names(batch) !== names(first)) fail('INVALID_ARGUMENT', `drift samples batch ${index} has different tensors than batch 0`);
  return Math.max(n, 0);
}

/** Per-column variance over all batches (shifted sums, so large offsets do not cancel badly). */
function columnVariances(batches: readonly DriftSamples[], group: 'inputs' | 'outputs', tensor: string, width: number): Float64Array {
  const shift = new Float64Array(width);
  const sum = new Float64Array(width);
  const sumSq = new Float64Array(width);
  let count = 0;
  for (const batch of batches) {
    const t = batch[group][tensor]!;
    const read = elementReader(t) ?? fail('INVALID_ARGUMENT', `drift: '${tensor}' (${t.type}) has no numeric values`);
    if (sampleSize(t) !== width) fail('INVALID_ARGUMENT', `drift: '${tensor}' has ${sampleSize(t)} values per sample in one batch and ${width} in another`);
    for (let s = 0; s < sampleCount(t); s++) {
      for (let j = 0; j < width; j++) {
        const v = read(s * width + j);
        if (!Number.isFinite(v)) continue;
        if (count === 0) shift[j] = v;
        const d = v - shift[j]!;
        sum[j]! += d;
        sumSq[j]! += d * d;
      }
      count++;
    }
  }
  return sum.map((s, j) => (count > 0 ? sumSq[j]! / count - (s / count) ** 2 : 0));
}

function resolvePlan(plan: TensorPlan, batches: readonly DriftSamples[], group: 'inputs' | 'outputs', tensor: string): readonly PlannedFeature[] {
  switch (plan.kind) {
    case 'none':
      return [];
    case 'image':
    case 'classes':
      return plan.features;
    case 'columns': {
      const indices = plan.width <= MAX_FEATURES_PER_TENSOR
        ? Array.from({ length: plan.width }, (_, i) => i)
        : widestColumns(columnVariances(batches, group, tensor, plan.width), MAX_FEATURES_PER_TENSOR);
      return columnFeatures(tensor, indices, plan.names);
    }
  }
}

function featureValues(feature: PlannedFeature, batches: readonly DriftSamples[], group: 'inputs' | 'outputs', total: number): Float64Array {
  const all = new Float64Array(total);
  let at = 0;
  for (const batch of batches) {
    const values = extractFeature(feature.source, batch[group][feature.source.tensor]!);
    all.set(values, at);
    at += values.length;
  }
  return all;
}

function summarize(feature: PlannedFeature, values: Float64Array, bins: number): FeatureReference | undefined {
  if (feature.type === 'categorical') {
    const categories = feature.categories ?? [];
    const counts = new Array<number>(categories.length).fill(0);
    let count = 0;
    for (const v of values) {
      if (Number.isInteger(v) && v >= 0 && v < counts.length) {
        counts[v]!++;
        count++;
      }
    }
    if (count === 0) return undefined;
    const ref: CategoricalFeatureReference = { name: feature.name, type: 'categorical', source: feature.source, categories, counts, count };
    return ref;
  }
  const sorted = sortedFinite(values);
  if (sorted.length === 0) return undefined; // no finite value: nothing to compare live traffic with
  const edges = quantileEdges(sorted, bins);
  const ref: NumericFeatureReference = { name: feature.name, type: 'numeric', source: feature.source, edges, counts: binCounts(edges, sorted), ...moments(sorted) };
  return ref;
}

/**
 * The drift reference for a model, from one batch of samples or several (same tensors in each).
 * Inputs: rank-4 tensors are images (per-channel mean and contrast per sample), others are
 * tabular (one feature per column, at most MAX_FEATURES_PER_TENSOR, the highest-variance ones).
 * Outputs: [N, C] is a classifier (predicted class + top score), one value per sample is numeric,
 * other shapes are skipped unless `options.outputs` names them.
 */
export function buildDriftReference(samples: DriftSamples | readonly DriftSamples[], options: DriftReferenceOptions): DriftReference {
  const batches: readonly DriftSamples[] = Array.isArray(samples) ? samples : [samples as DriftSamples];
  const first = batches[0] ?? fail('INVALID_ARGUMENT', 'drift reference needs at least one batch of samples');
  const bins = checkOptions(options, first);
  const total = batches.reduce((n, batch, i) => n + checkBatch(batch, i, first), 0);
  if (total === 0) fail('INVALID_ARGUMENT', 'drift reference needs at least one sample');

  const build = (group: 'inputs' | 'outputs'): FeatureReference[] => {
    const refs: FeatureReference[] = [];
    for (const [tensor, t] of Object.entries(first[group])) {
      if (elementReader(t) === undefined) continue; // strings: no numeric summary
      const plan = group === 'inputs' ? planInput(tensor, t.dims, options.inputs?.[tensor]) : planOutput(tensor, t.dims, options.outputs?.[tensor]);
      for (const feature of resolvePlan(plan, batches, group, tensor)) {
        const ref = summarize(feature, featureValues(feature, batches, group, total), bins);
        if (ref) refs.push(ref);
      }
    }
    return refs;
  };
  return { version: 1, inputs: build('inputs'), outputs: build('outputs'), samples: total, origin: options.origin };
}
