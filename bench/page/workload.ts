// What a benchmark workload is: the same model bytes for every ONNX runtime, the same weights for
// TF.js (or the reason TF.js cannot run it), and inputs shared by the variants of one model.
import type * as tfc from '@tensorflow/tfjs-core';

export type Tf = typeof tfc;

/** A TF.js computation with the workload's weights, fed and read in TF.js's own layout. */
export interface TfModel {
  run(tf: Tf, x: tfc.Tensor): tfc.Tensor;
  dispose(): void;
  /** the ONNX input (e.g. NCHW) in TF.js's layout (e.g. NHWC), done once outside the timed runs */
  toTfInput?(x: Float32Array, dims: readonly number[]): { data: Float32Array; dims: number[] };
  /** TF.js's output back in the ONNX layout, for the error check only */
  fromTfOutput?(y: Float32Array): Float32Array;
}

/** Bytes given directly (built in the page) or fetched from the bench server (timed as "fetch"). */
export type ModelSource = { readonly bytes: Uint8Array } | { readonly url: string };

export interface Workload {
  readonly name: string;
  readonly kind: 'micro' | 'model';
  /** the ONNX model every ONNX runtime runs (QDQ form for quantized variants) */
  readonly onnx: ModelSource;
  /** a .kiln bundle of the same model, run by the Kiln runtimes when present */
  readonly kiln?: ModelSource;
  readonly inputName: string;
  /** input shape at a batch size (micro workloads ignore the batch) */
  inputDims(batch: number): number[];
  /** whether a batch-32 throughput run makes sense */
  readonly batchable: boolean;
  /** floating-point operations per batch-1 run, for GFLOP/s */
  readonly flops?: number;
  /** the float workload whose output is this one's reference (quantized variants); default itself */
  readonly floatReference?: string;
  /** inputs are generated from this key, so variants of one model see the same inputs */
  readonly inputKey: string;
  /** input values in [lo, hi) */
  readonly inputRange?: readonly [number, number];
  readonly tfjs: ((tf: Tf) => TfModel) | { readonly unavailable: string };
}
