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

/** Facts about the GPU a lowering may depend on; part of every pipeline's identity through its WGSL. */
export interface GpuCaps {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxWorkgroupStorageBytes: number;
  readonly maxStorageBufferBindingSize: number;
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
  /** true on software adapters such as SwiftShader, where fewer, larger dispatches win */
  readonly software: boolean;
}

export interface GpuKernelContext extends KernelContext {
  readonly caps: GpuCaps;
}

/** Where a GPU program reads or writes: a node input, a node output, or a scratch tensor. */
export interface BufferRef {
  readonly kind: 'input' | 'output' | 'temp';
  readonly index: number;
}

export interface GpuProgram {
  /** label shown in GPU errors and captures: op type and node name */
  readonly label: string;
  /** WGSL source; also the pipeline cache key, so anything the shader depends on is in it by construction */
  readonly shader: string;
  /** storage buffers in binding order 0..n-1; the uniform buffer, if any, is binding n */
  readonly bindings: readonly BufferRef[];
  readonly uniforms: Uint32Array;
  readonly dispatch: readonly [number, number, number];
}

export type GpuLowering =
  /** output 0 shares input `input`'s buffer (Reshape, Squeeze, Identity...) */
  | { readonly kind: 'view'; readonly input: number }
  | { readonly kind: 'programs'; readonly programs: readonly GpuProgram[]; readonly temps?: readonly TensorMeta[] };

/**
 * One ONNX op (or op family member). Each op file exports these; see kernels/registry.ts.
 * `inferOutputs` is pure and runs at plan time; `cpu` is the reference every backend is tested
 * against; `webgpu` returns undefined for cases it does not handle (those nodes run on the CPU).
 */
export interface OpKernel {
  readonly opType: string;
  /** '' (default) for ai.onnx; 'com.microsoft' for contrib ops */
  readonly domain?: string;
  /** input slots whose values must be known on the host at plan time (shapes, axes, pads...) */
  readonly hostInputs?: readonly number[];
  inferOutputs(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta[];
  cpu(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor[];
  /** for ops whose result depends only on input shapes (Shape, Size): compute it at plan time */
  evalFromMeta?(inputs: readonly MaybeMeta[], ctx: KernelContext): AnyTensor[];
  webgpu?(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext): GpuLowering | undefined;
}
