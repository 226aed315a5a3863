import { activationOf } from '../common/activation.ts';
import { convGeometry, type ConvGeometry } from '../common/conv-attributes.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../common/values.ts';
import type { ImplementationTable, KernelContext, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { packedBBytes, type PrepareContext, type WasmKernel, type WasmKernels, type WasmStep, type WasmStepAddresses } from '../wasm/contract.ts';
import { wasmEpilogue } from '../wasm/epilogue.ts';

/**
 * Conv on float32, 1-D and 2-D, in wasm (kernels/wasm/src/conv-f32.c): im2col straight into the
 * GEMM's packed panels, a chunk of output positions at a time, W read in place as the GEMM's A;
 * depthwise (one input and one output channel per group) as a direct SIMD kernel. Fused Relu/Clip
 * run in the kernel's clamp, the other activations in a pass after it (kernels/wasm/epilogue.ts);
 * 3-D convs and other dtypes decline (they run js).
 */

/** Packed col floats per chunk: ~128 KB, so a chunk stays in L2 between the im2col and the GEMM. */
const CHUNK_FLOATS = 32 * 1024;

/** Output positions per chunk: a multiple of 8 (the GEMM's panel width), at least one panel. */
export function chunkPositions(k: number, positions: number): number {
  const fit = Math.max(8, Math.floor(CHUNK_FLOATS / (k + 1) / 8) * 8);
  return Math.min(fit, Math.ceil(positions / 8) * 8);
}

/** The conv as 2-D (a 1-D conv is a 2-D one with height 1): [ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw]. */
function as2d(g: ConvGeometry): number[] | undefined {
  const s = g.inDims.length;
  if (s === 2) return [g.inDims[0]!, g.inDims[1]!, g.outDims[0]!, g.outDims[1]!, g.kernel[0]!, g.kernel[1]!, g.strides[0]!, g.strides[1]!, g.padBegin[0]!, g.padBegin[1]!, g.dilations[0]!, g.dilations[1]!];
  if (s === 1) return [1, g.inDims[0]!, 1, g.outDims[0]!, 1, g.kernel[0]!, 1, g.strides[0]!, 0, g.padBegin[0]!, 1, g.dilations[0]!];
  return undefined;
}

/**
 * The step for X, W, B (slots 0, 1, 2). `weight`: W's float32 values computed at plan time (a
 * dequantized kiln.DequantConv weight): written once into persistent memory, slot 1 not read.
 */
export function lowerConvF32(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: KernelContext, weight?: AnyTensor): WasmStep | undefined {
  const [x, w, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  if (x.dtype !== 'float32' || w.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  const epilogue = wasmEpilogue(activationOf(ctx.attrs));
  const { geo: g } = convGeometry(inputs, ctx, false);
  const dims = as2d(g);
  if (!dims) return undefined;
  const out = outputs[0]!;
  if (out.dims.reduce((a, d) => a * d, 1) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const [ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw] = dims as [number, number, number, number, number, number, number, number, number, number, number, number];
  const [flags, lo, hi] = epilogue.clamp;
  const outFloats = out.dims.reduce((a, d) => a * d, 1);
  const reads = [0, ...(weight ? [] : [1]), ...(bias ? [2] : [])];
  const biasAt = (at: readonly number[]): number => (bias ? at[2]! : 0);
  const persistentBytes = weight ? [weight.size * 4] : [];
  const prepare = weight
    ? (k: WasmKernels, at: PrepareContext): void => new Float32Array(k.memory.buffer, at.persistent[0]!, weight.size).set(toNumbers(weight))
    : undefined;
  const weightAt = (at: WasmStepAddresses): number => (weight ? at.persistent[0]! : at.inputs[1]!);

  // kernels/wasm/src/conv-f32.c holds at most 49 taps splatted (MAX_DEPTHWISE_TAPS)
  if (g.cinG === 1 && g.coutG === 1 && kh * kw <= 49) {
    const ow8 = Math.ceil(ow / 8) * 8;
    const scratchFloats = ((oh - 1) * sh + (kh - 1) * dh + 1) * (ow8 * sw + (kw - 1) * dw + 8);
    const step: WasmStep = {
      reads,
      scratchBytes: scratchFloats * 4,
      persistentBytes,
      prepare,
      run(k, at) {
        k.fn('kiln_conv_depthwise_f32')(at.inputs[0]!, weightAt(at), biasAt(at.inputs), at.outputs[0]!, at.scratch, g.batch, g.group, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, flags, lo, hi);
        epilogue.after(k, at.outputs[0]!, outFloats);
      },
    };
    return step;
  }
  const K = g.cinG * kh * kw;
  const chunk = chunkPositions(K, oh * ow);
  return {
    reads,
    scratchBytes: packedBBytes(K, chunk),
    persistentBytes,
    prepare,
    run(k, at) {
      k.fn('kiln_conv_f32')(at.inputs[0]!, weightAt(at), biasAt(at.inputs), at.outputs[0]!, at.scratch, g.batch, g.group, g.cinG, g.coutG, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, chunk, flags, lo, hi);
      epilogue.after(k, at.outputs[0]!, outFloats);
    },
  };
};

const conv: WasmKernel = (inputs, outputs, ctx) => lowerConvF32(inputs, outputs, ctx);

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Conv')]: conv };
