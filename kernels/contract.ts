import type { AnyTensor } from '../core/tensor.ts';
import type { DataType } from '../core/dtype.ts';
import type { Attributes } from '../core/attributes.ts';

/** What is known about a tensor at plan time: its element type and concrete shape. */
export interface TensorMeta {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  /**
   * GPU only: the buffer holds 8-bit (4 per u32 word) or 4-bit (8 per word) values packed, as the
   * WebGPU backend stores int8/uint8/int4/uint4 constants (quantized weights). TensorVar.get()
   * unpacks transparently; kernels that read raw words must check this.
   */
  readonly packed?: boolean;
}

export type MaybeMeta = TensorMeta | undefined;
export type MaybeTensor = AnyTensor | undefined;

export interface KernelContext {
  readonly attrs: Attributes;
  /** the opset version the model imports for this op's domain */
  readonly opset: number;
  /** the node name, for error messages */
  readonly node: string;
  /** values of the inputs named in `hostInputs`, indexed by input slot (others are undefined) */
  readonly host: readonly MaybeTensor[];
  /** how many outputs the node declares (Split with equal parts needs it); absent when unknown */
  readonly outputCount?: number;
}

/** A CPU implementation (and the shape of every op's reference): input tensors in, output tensors out. */
export type CpuKernel = (inputs: readonly MaybeTensor[], ctx: KernelContext) => AnyTensor[];

/**
 * One ONNX op: what it accepts, what it produces, and what it means. Each op family folder's op.ts
 * exports its definitions (kernels/definitions.ts lists them all); the implementations per backend
 * live beside it (js.ts, wasm.ts, webgpu.ts) and are looked up by `opKey`, so a backend bundles only
 * its own code. `reference` is written for clarity, not speed: the oracle every implementation is
 * tested against, and what plan-time constant folding runs.
 */
export interface OpDefinition {
  readonly opType: string;
  /** '' (default) for ai.onnx; 'com.microsoft' for contrib ops */
  readonly domain?: string;
  /** input slots whose values must be known on the host at plan time (shapes, axes, pads...) */
  readonly hostInputs?: readonly number[];
  inferOutputs(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[];
  reference: CpuKernel;
  /** for ops whose result depends only on input shapes (Shape, Size): compute it at plan time */
  evalFromMeta?(inputs: readonly MaybeMeta[], ctx: KernelContext): AnyTensor[];
}

/** The key implementations are filed under: 'ai.onnx' and '' are the same domain. */
export function opKey(domain: string | undefined, opType: string): string {
  return `${!domain || domain === 'ai.onnx' ? '' : domain}::${opType}`;
}

/** A family's implementations for one backend, by `opKey`. */
export type ImplementationTable<K> = Readonly<Record<string, K>>;
