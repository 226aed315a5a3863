import type { AnyTensor } from '../../core/tensor.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, TensorMeta } from '../contract.ts';

// The WebGPU backend's contract with the kernels: what a lowering may depend on and what it returns.

/** Facts about the GPU a lowering may depend on; part of every pipeline's identity through its WGSL. */
export interface GpuCaps {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxWorkgroupStorageBytes: number;
  readonly maxStorageBufferBindingSize: number;
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
  /** WGSL's packed_4x8_integer_dot_product (dot4I8Packed, pack4xI8) is available */
  readonly packedDot4x8?: boolean;
  /** true on software adapters such as SwiftShader, where fewer, larger dispatches win */
  readonly software: boolean;
}

export interface GpuKernelContext extends KernelContext {
  readonly caps: GpuCaps;
  /**
   * values of the inputs that are plan constants (initializers, folded values), by input slot;
   * others undefined. Lets a lowering move per-channel work (requantization multipliers) to plan time.
   */
  readonly constants?: readonly MaybeTensor[];
}

/**
 * Where a GPU program reads or writes: a node input, a node output, a scratch tensor, or a constant
 * the kernel made at plan time (`data`, e.g. a lookup table: uploaded once per session and bound
 * read-only like an initializer; `index` counts the program's constants).
 */
export interface BufferRef {
  readonly kind: 'input' | 'output' | 'temp' | 'constant';
  readonly index: number;
  readonly data?: AnyTensor;
  /**
   * a scratch tensor this program only reads (an earlier program of the node wrote it). Bound
   * read-only: SwiftShader reads a read_write buffer much more slowly (a QLinearConv reading its
   * quantized x from a read_write scratch tensor took 1.6-2x the float Conv's time; see decisions.md
   * quantize-cost)
   */
  readonly readOnly?: boolean;
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

/** A WebGPU implementation: returns undefined for cases it does not handle (those nodes run on the CPU). */
export type WebGpuKernel = (inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext) => GpuLowering | undefined;
