// The reference distributions a bundle carries for drift detection (written by `kiln train` and
// `kiln compress`, read by the runtime's drift monitor). Plain JSON: it lives in the .kiln header.
// Numeric features are kept as a histogram over bins cut at the reference's quantiles (so every bin
// holds about the same share of the reference: good for PSI and Jensen-Shannon) plus moments (for
// a Wasserstein distance normalized by the reference's standard deviation).

/** How one scalar per sample is computed from a model input or output tensor. */
export type FeatureSource =
  /** tabular input [N, F] (or [N, ..., F] flattened per sample): column `index` */
  | { readonly kind: 'column'; readonly tensor: string; readonly index: number }
  /** image input: the mean of one channel over the sample's pixels */
  | { readonly kind: 'channel-mean'; readonly tensor: string; readonly channel: number; readonly layout: 'NCHW' | 'NHWC' }
  /** image input: the standard deviation (contrast) of one channel over the sample's pixels */
  | { readonly kind: 'channel-contrast'; readonly tensor: string; readonly channel: number; readonly layout: 'NCHW' | 'NHWC' }
  /** classifier output [N, C]: the predicted class (categorical) */
  | { readonly kind: 'argmax'; readonly tensor: string }
  /** classifier output [N, C]: the top probability or logit (numeric; a confidence signal) */
  | { readonly kind: 'max'; readonly tensor: string };

export interface NumericFeatureReference {
  readonly name: string;
  readonly type: 'numeric';
  readonly source: FeatureSource;
  /** interior bin edges, ascending (k edges -> k+1 bins; values equal to an edge fall right) */
  readonly edges: readonly number[];
  /** reference count per bin (edges.length + 1 entries) */
  readonly counts: readonly number[];
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

export interface CategoricalFeatureReference {
  readonly name: string;
  readonly type: 'categorical';
  readonly source: FeatureSource;
  /** category labels, index = category value (e.g. class index) */
  readonly categories: readonly string[];
  readonly counts: readonly number[];
  readonly count: number;
}

export type FeatureReference = NumericFeatureReference | CategoricalFeatureReference;

export interface DriftReference {
  readonly version: 1;
  /** features of the model inputs (columns, or image channel summaries) */
  readonly inputs: readonly FeatureReference[];
  /** features of the model outputs (predicted class, confidence) */
  readonly outputs: readonly FeatureReference[];
  /** how many samples the reference was built from, and from what ("mnist train", "calibration") */
  readonly samples: number;
  readonly origin: string;
}
