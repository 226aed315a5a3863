// What a .kiln bundle says about its model beyond the graph: the input/output contract a page
// needs to feed it (layout, preprocessing, labels), where the model came from, how good it was,
// and the drift reference. Written by the trainer and `kiln compress`; read by the runtime
// (session.bundle) and `kiln inspect`. The byte layout is specified in docs/format.md.
import type { DriftReference } from '../../telemetry/drift/drift-reference.ts';

export interface InputSpec {
  readonly name: string;
  /** e.g. 'NCHW' / 'NHWC' for images, 'NF' for tabular rows */
  readonly layout?: string;
  /** how raw data becomes the tensor: pixels scaled to [0,1], standardized columns, ... */
  readonly preprocessing?: Preprocessing;
  /** names of the features along the last axis (tabular) */
  readonly featureNames?: readonly string[];
}

export type Preprocessing =
  /** value = raw * scale + offset (e.g. pixels: scale 1/255, offset 0) */
  | { readonly kind: 'affine'; readonly scale: number; readonly offset: number; readonly rawRange?: readonly [number, number] }
  /** value = (raw - mean[i]) / std[i] per feature */
  | { readonly kind: 'standardize'; readonly mean: readonly number[]; readonly std: readonly number[] }
  | { readonly kind: 'none' };

export interface OutputSpec {
  readonly name: string;
  /** class labels, index = class */
  readonly labels?: readonly string[];
  /** what the values are */
  readonly kind?: 'logits' | 'probabilities' | 'values';
}

export interface Provenance {
  /** 'kiln train', 'kiln compress' */
  readonly tool: string;
  readonly toolVersion: string;
  readonly createdAt: string;
  /** e.g. the command line, the dataset, the source model's SHA-256 */
  readonly [key: string]: unknown;
}

export interface BundleMetadata {
  readonly name?: string;
  readonly version?: string;
  readonly provenance?: Provenance;
  /** e.g. { accuracyFloat: 0.991, accuracyQuantized: 0.990, sparsity: 0.5 } */
  readonly metrics?: Readonly<Record<string, number | string>>;
  readonly drift?: DriftReference;
  readonly [key: string]: unknown;
}

export interface BundleSpec {
  readonly inputs?: readonly InputSpec[];
  readonly outputs?: readonly OutputSpec[];
  readonly metadata?: BundleMetadata;
}
