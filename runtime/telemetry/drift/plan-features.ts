// Which drift features a model input or output gets, from its shape and what the caller says about
// it. Only the reference builder decides this; the live monitor follows the reference's list.
import { fail } from '../../../core/errors.ts';
import type { FeatureSource } from './drift-reference.ts';

/**
 * At most this many features per tensor. Wider tabular tensors keep the columns with the largest
 * reference variance (constant columns can't show a shift in spread and cost a test each); images
 * keep the first 32 channels (mean + contrast each).
 */
export const MAX_FEATURES_PER_TENSOR = 64;

export interface InputFeatureOptions {
  /** default: rank 4 -> 'NCHW' when dims[1] <= 4, else 'NHWC' when dims[3] <= 4, else 'NCHW'; other ranks -> 'NF' */
  readonly layout?: 'NCHW' | 'NHWC' | 'NF';
  /** names of the columns of a tabular ('NF') input, in order */
  readonly featureNames?: readonly string[];
}

export type OutputFeatureOptions = { readonly kind: 'classes'; readonly labels?: readonly string[] } | { readonly kind: 'values' };

export interface PlannedFeature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
  readonly source: FeatureSource;
  readonly categories?: readonly string[];
}

/** How a tensor is summarized before column selection. */
export type TensorPlan =
  | { readonly kind: 'image'; readonly features: readonly PlannedFeature[] }
  | { readonly kind: 'columns'; readonly width: number; readonly names?: readonly string[] }
  | { readonly kind: 'classes'; readonly features: readonly PlannedFeature[] }
  | { readonly kind: 'none'; readonly reason: string };

function perSample(dims: readonly number[]): number {
  return dims.slice(1).reduce((a, b) => a * b, 1);
}

function guessImageLayout(dims: readonly number[]): 'NCHW' | 'NHWC' {
  if (dims[1]! <= 4) return 'NCHW';
  if (dims[3]! <= 4) return 'NHWC';
  return 'NCHW';
}

export function planInput(tensor: string, dims: readonly number[], options: InputFeatureOptions = {}): TensorPlan {
  const layout = options.layout ?? (dims.length === 4 ? guessImageLayout(dims) : 'NF');
  if (layout !== 'NF') {
    if (dims.length !== 4) fail('INVALID_ARGUMENT', `drift input '${tensor}': layout ${layout} needs a rank-4 tensor, got dims [${dims.join(', ')}]`);
    const channels = layout === 'NCHW' ? dims[1]! : dims[3]!;
    const features: PlannedFeature[] = [];
    for (let c = 0; c < Math.min(channels, MAX_FEATURES_PER_TENSOR / 2); c++) {
      features.push({ name: `${tensor}.mean[${c}]`, type: 'numeric', source: { kind: 'channel-mean', tensor, channel: c, layout } });
      features.push({ name: `${tensor}.contrast[${c}]`, type: 'numeric', source: { kind: 'channel-contrast', tensor, channel: c, layout } });
    }
    return { kind: 'image', features };
  }
  const width = perSample(dims);
  if (options.featureNames && options.featureNames.length !== width) {
    fail('INVALID_ARGUMENT', `drift input '${tensor}': ${options.featureNames.length} feature names for ${width} columns`);
  }
  return options.featureNames ? { kind: 'columns', width, names: options.featureNames } : { kind: 'columns', width };
}

export function planOutput(tensor: string, dims: readonly number[], options?: OutputFeatureOptions): TensorPlan {
  const width = perSample(dims);
  const kind = options?.kind ?? (dims.length === 2 && width >= 2 ? 'classes' : width === 1 ? 'values' : undefined);
  if (kind === undefined) {
    return { kind: 'none', reason: `output '${tensor}' with dims [${dims.join(', ')}] is neither [N, classes] nor one value per sample; pass { kind } to sketch it` };
  }
  if (kind === 'values') return { kind: 'columns', width };
  if (width < 2) fail('INVALID_ARGUMENT', `drift output '${tensor}': classes need at least 2 values per sample, got ${width}`);
  const labels = options?.kind === 'classes' ? options.labels : undefined;
  if (labels && labels.length !== width) fail('INVALID_ARGUMENT', `drift output '${tensor}': ${labels.length} labels for ${width} classes`);
  const categories = labels ?? Array.from({ length: width }, (_, i) => String(i));
  return {
    kind: 'classes',
    features: [
      { name: `${tensor}.class`, type: 'categorical', source: { kind: 'argmax', tensor }, categories },
      { name: `${tensor}.max`, type: 'numeric', source: { kind: 'max', tensor } },
    ],
  };
}

/** Column features for the chosen indices (ascending), named by the caller's names or `tensor[i]`. */
export function columnFeatures(tensor: string, indices: readonly number[], names?: readonly string[]): PlannedFeature[] {
  return indices.map((index) => ({ name: names?.[index] ?? `${tensor}[${index}]`, type: 'numeric', source: { kind: 'column', tensor, index } }));
}

/** The `limit` indices with the largest variance (ties: lower index), ascending. */
export function widestColumns(variances: Float64Array, limit: number): number[] {
  if (variances.length <= limit) return Array.from({ length: variances.length }, (_, i) => i);
  const order = Array.from({ length: variances.length }, (_, i) => i);
  order.sort((a, b) => variances[b]! - variances[a]! || a - b);
  return order.slice(0, limit).sort((a, b) => a - b);
}
