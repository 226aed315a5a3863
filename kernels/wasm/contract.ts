// The wasm backend's contract with the kernels. An op's wasm.ts lowers a node, at plan time, to a
// step over byte offsets in one WebAssembly.Memory: the backend lays out the memory (persistent data
// such as packed weights, then an arena planned from tensor lifetimes) and calls the step with the
// offsets. Tensors in the arena are contiguous, row-major, of the dtypes kernels/wasm/typed.ts lists.
import type { AnyTensor } from '../../core/tensor.ts';
import type { KernelContext, MaybeMeta, MaybeTensor, TensorMeta } from '../contract.ts';
import type { TailSupport } from './tail.ts';

export type GemmActivation = { readonly kind: 'none' } | { readonly kind: 'relu' } | { readonly kind: 'clip'; readonly min: number; readonly max: number };

export interface GemmF32Args {
  /** A: M x K floats at byte offset `a`, row stride lda (floats) */
  readonly a: number;
  readonly lda: number;
  /** B packed by packBF32 for the same K and N */
  readonly bPacked: number;
  /** C: M x N floats, row stride ldc (floats); must not overlap A or B */
  readonly c: number;
  readonly ldc: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** add the product to C's current values instead of overwriting C */
  readonly accumulate?: boolean;
  readonly activation?: GemmActivation;
}

export interface PackBF32Args {
  /** B: K x N floats with row stride ldb, or N x K when transB */
  readonly b: number;
  readonly ldb: number;
  readonly k: number;
  readonly n: number;
  readonly transB?: boolean;
  /** offset of N floats added to every row of the product, or undefined for none */
  readonly bias?: number;
  /** packedBBytes(k, n) bytes */
  readonly out: number;
}

/** Scratch regions a row-parallel step reserves (WasmKernels.parallelRows): at most this many parts run. */
export const MAX_ROW_PARTS = 8;

/**
 * Exports the thread pool may split by ranges of independent units (their last two arguments), in
 * the order both sides of the pool index them: attention's query rows, the integer GEMM's rows or
 * panels and depthwise planes (gemm-s8-parts.c), MatMulNBits' prefill panels and decode column
 * groups (matmul-nbits.c), the float conv's (image, group, chunk) units and depthwise planes (conv-f32.c),
 * blocks of 2048 elements of the costly unary ops (eltwise-unary.c), and the recurrent ops' (batch, KV
 * head) states and (batch, channel) rows (recurrent.c).
 */
export const ROW_PARALLEL_EXPORTS = ['kiln_attention_f32', 'kiln_gemm_s16_part', 'kiln_dwconv_s16_part', 'kiln_nbits_gemm_f32', 'kiln_nbits_f32_part', 'kiln_conv_f32', 'kiln_conv_depthwise_f32', 'kiln_unary_part_f32', 'kiln_chain_part_f32', 'kiln_linear_attention_f32', 'kiln_causal_conv_f32', 'kiln_conv_winograd_f32'] as const;
export type RowParallelExport = (typeof ROW_PARALLEL_EXPORTS)[number];

/** A call of a row-parallel export over rows [0, rows) (WasmKernels.parallelRows). */
export interface RowsArgs {
  /** the export's arguments before its row range [row0, row1) */
  readonly args: readonly number[];
  /** bit i set: argument i is an f32 */
  readonly floats: number;
  readonly rows: number;
  /** the argument each part moves by part * scratchStride bytes (MAX_ROW_PARTS regions reserved) */
  readonly scratchArg: number;
  readonly scratchStride: number;
  /** multiply-adds of the whole call: below the pool's threshold it stays on the calling thread */
  readonly work: number;
}

/** A raw export of the kernel module: i32 offsets and sizes, f32 parameters. */
export type WasmExport = (...args: number[]) => number | undefined;

/** The kernel module's entry points (runtime/backends/wasm/wasm-module.ts loads it). */
export interface WasmKernels {
  readonly memory: WebAssembly.Memory;
  /** the GEMM, with its arguments checked */
  gemmF32(args: GemmF32Args): void;
  packBF32(args: PackBF32Args): void;
  /**
   * A row-parallel export (ROW_PARALLEL_EXPORTS: rows are independent) split by contiguous row ranges
   * across the thread pool when there is one; the same bits whatever the thread count.
   */
  parallelRows(name: RowParallelExport, call: RowsArgs): void;
  /**
   * Any other export by name (kernels/wasm/src/*.c, `KILN_EXPORT(kiln_...)`): an op's wasm.ts
   * looks up what it calls when it lowers a node, so a missing export fails at session creation.
   */
  fn(name: string): WasmExport;
}

/** Width of a packed B panel (the GEMM microkernel's NR): keep in step with kernels/wasm/src. */
const PANEL_WIDTH = 8;

/** Bytes of B packed for the GEMM: ceil(n / 8) panels of (k + 1) rows of 8 floats (a bias row, then B). */
export function packedBBytes(k: number, n: number): number {
  return Math.ceil(n / PANEL_WIDTH) * (k + 1) * PANEL_WIDTH * 4;
}

export interface WasmKernelContext extends KernelContext {
  /** the values of inputs that are constants of the plan (weights), by slot; undefined for the others */
  readonly constants: readonly MaybeTensor[];
}

/** Where a step's tensors are: byte offsets into the memory. */
export interface WasmStepAddresses {
  /** one per input slot; -1 for omitted inputs and for constants the step consumed at prepare time */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** `scratchBytes` bytes of the step's own, valid while it runs */
  readonly scratch: number;
  /** the regions `persistentBytes` asked for, in order; filled by `prepare` */
  readonly persistent: readonly number[];
}

export interface PrepareContext {
  readonly persistent: readonly number[];
  /** copies a constant into a temporary region and returns its offset (valid during prepare only) */
  stage(t: AnyTensor): number;
}

/**
 * What an elementwise step computes per element, so the backend can run a chain of such steps as
 * one pass (runtime/backends/wasm/elementwise-chains.ts, kernels/wasm/src/eltwise-chain.c).
 * unary: y = op(input 0). binary: `full` lists the input slots with the output's shape (either may
 * carry the chain); a slot not in `full` is read as `mid` values along the middle axis of the
 * output viewed as [outer, mid, inner] (a scalar, a row vector, a per-channel [C,1,1]).
 */
export type ElementwiseStage =
  | { readonly kind: 'unary'; readonly code: number; readonly params: readonly [number, number] }
  | { readonly kind: 'binary'; readonly code: number; readonly full: readonly number[]; readonly mid: number; readonly inner: number };

export interface WasmStep {
  /** set by elementwise steps that a fused chain may take in */
  readonly elementwise?: ElementwiseStage;
  /**
   * Input slots the step reads from memory at run time. Constant inputs it consumed in `prepare`
   * (packed weights) are left out, so they take no arena space.
   */
  readonly reads: readonly number[];
  readonly scratchBytes: number;
  /**
   * Set by reshape-like ops: output 0 is the bytes of this input slot under new dims. The backend
   * gives both the same arena bytes (the input's lifetime stretched to the output's) and `run`
   * does nothing: a view costs no copy.
   */
  readonly viewOf?: number;
  /**
   * Per output index, the input slot that output may share bytes with when the backend keeps that
   * input between runs (a carried KV cache: KvCacheWrite [0], GroupQueryAttention's presents
   * [undefined, past_key, past_value]): `run` then finds at.outputs[j] === at.inputs[slot] and
   * writes only what changes. Without it the backend gives them separate bytes and copies one into
   * the other.
   */
  readonly writesOver?: readonly (number | undefined)[];
  /**
   * Set by kernels that can run an elementwise chain reading their output 0 on each piece of that
   * output while it is in cache (Conv; kernels/wasm/tail.ts): the backend then runs the chain there
   * and its steps run nothing.
   */
  readonly tail?: TailSupport;
  /** byte sizes of data computed once per session (packed weights) */
  readonly persistentBytes: readonly number[];
  prepare?(k: WasmKernels, at: PrepareContext): void;
  run(k: WasmKernels, at: WasmStepAddresses): void;
}

/** A wasm implementation: undefined for cases it does not handle (those nodes run their js kernel). */
export type WasmKernel = (inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: WasmKernelContext) => WasmStep | undefined;
