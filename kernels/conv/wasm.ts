import { activationOf } from '../common/activation.ts';
import { convGeometry, type ConvGeometry } from '../common/conv-attributes.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { toNumbers } from '../common/values.ts';
import type { ImplementationTable, KernelContext, MaybeMeta, MaybeTensor, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import { MAX_ROW_PARTS, packedBBytes, type PrepareContext, type WasmKernel, type WasmKernels, type WasmStep, type WasmStepAddresses } from '../wasm/contract.ts';
import { wasmEpilogue } from '../wasm/epilogue.ts';
import { oncePerLayout } from '../wasm/once-per-layout.ts';
import { CHAIN_WORDS, type TailProgram } from '../wasm/tail.ts';
import { winogradShape, winogradStep } from './wasm-winograd.ts';

/**
 * Conv on float32, 1-D and 2-D, in wasm (kernels/wasm/src/conv-f32.c): im2col straight into the
 * GEMM's packed panels, a chunk of output positions at a time, W read in place as the GEMM's A;
 * depthwise (one input and one output channel per group) as a direct SIMD kernel. Fused Relu/Clip
 * run in the kernel's clamp, the others on each piece of the output right after it is computed, as
 * does an elementwise chain that reads the output when the backend hands one over (kernels/wasm/tail.ts);
 * 3-D convs and other dtypes decline (they run js). Both kernels run on the thread pool by ranges of
 * independent units ((image, group, chunk) for the GEMM form, planes for depthwise), each part with
 * its own scratch region: the same bits on any thread count.
 */

/** Packed col floats per chunk: ~128 KB, so a chunk stays in L2 between the im2col and the GEMM. */
const CHUNK_FLOATS = 32 * 1024;

/** Output positions a chunk keeps at least when chunks are made smaller to split a conv (two panels). */
const MIN_SPLIT_CHUNK = 16;

/**
 * Output positions per chunk: a multiple of 8 (the GEMM's panel width), at least one panel, at most
 * what fits CHUNK_FLOATS; and small enough that the conv has MAX_ROW_PARTS (image, group, chunk)
 * units when it can (down to MIN_SPLIT_CHUNK), so the pool can split it: a 1x1 conv on a 12x12 map
 * was one chunk (PP-OCRv4 det has 15 such convs of 0.14-0.28 ms, each on one thread whatever
 * numThreads said). Smaller chunks only re-read W (the GEMM's A, from cache) once more per chunk.
 */
export function chunkPositions(k: number, positions: number, images = 1): number {
  const fit = Math.max(8, Math.floor(CHUNK_FLOATS / (k + 1) / 8) * 8);
  const spread = Math.max(MIN_SPLIT_CHUNK, Math.ceil(positions / Math.ceil(MAX_ROW_PARTS / images) / 8) * 8);
  return Math.min(fit, spread, Math.ceil(positions / 8) * 8);
}

/**
 * A depthwise multiply-add in the pool's work units (GEMM multiply-adds at ~15 GMAC/s): each plane is
 * copied with its padding and its rows computed 8 lanes wide, so small maps run at 3.7-7 GMAC/s
 * (PP-OCRv4 det's 192 planes of 12x12 through a 5x5: 0.69 M multiply-adds in 0.18 ms); counted as
 * GEMM work, such 0.2-0.3 ms calls fell under the pool's threshold (MIN_PARALLEL_MACS) and were never
 * tried split. The pool's timed choice (split-choice.ts) still decides whether a split pays.
 */
const DEPTHWISE_MAC_COST = 4;

/** The f32 arguments (lo, hi) of kiln_conv_f32 and kiln_conv_depthwise_f32, as parallelRows' bit mask. */
const CONV_FLOATS = (1 << 23) | (1 << 24);
const DEPTHWISE_FLOATS = (1 << 20) | (1 << 21);

interface Conv2d {
  readonly ih: number; readonly iw: number; readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
}

/** The conv as 2-D (a 1-D conv is a 2-D one with height 1); undefined for 3-D and up. */
function as2d(g: ConvGeometry): Conv2d | undefined {
  const s = g.inDims.length;
  if (s !== 1 && s !== 2) return undefined;
  const pick = (v: readonly number[], one: number): [number, number] => (s === 2 ? [v[0]!, v[1]!] : [one, v[0]!]);
  const [[ih, iw], [oh, ow], [kh, kw]] = [pick(g.inDims, 1), pick(g.outDims, 1), pick(g.kernel, 1)];
  const [[sh, sw], [ph, pw], [dh, dw]] = [pick(g.strides, 1), pick(g.padBegin, 0), pick(g.dilations, 1)];
  return { ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw };
}

/**
 * The step for X, W, B (slots 0, 1, 2). `weight`: W's float32 values computed at plan time (a
 * dequantized kiln.DequantConv weight): written once into persistent memory, slot 1 not read.
 */
export function lowerConvF32(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: KernelContext & { readonly constants?: readonly MaybeTensor[] }, weight?: AnyTensor): WasmStep | undefined {
  const [x, w, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  if (x.dtype !== 'float32' || w.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  // a WebGPU-fusion epilogue or load prologue: the js kernel applies it
  if (ctx.attrs.has('kiln_epilogue_steps') || ctx.attrs.has('kiln_prologue_steps')) return undefined;
  const epilogue = wasmEpilogue(activationOf(ctx.attrs));
  const { geo: g } = convGeometry(inputs, ctx, false);
  const d = as2d(g);
  if (!d) return undefined;
  const out = outputs[0]!;
  if (out.dims.reduce((a, d) => a * d, 1) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const { ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw } = d;
  const [flags, lo, hi] = epilogue.clamp;
  const outFloats = out.dims.reduce((a, d) => a * d, 1);
  const reads = [0, ...(weight ? [] : [1]), ...(bias ? [2] : [])];
  const biasAt = (at: readonly number[]): number => (bias ? at[2]! : 0);
  // persistent: the dequantized weight (when given), then the fused activation's program (when it is not the clamp)
  const act = epilogue.instructions;
  const persistentBytes = [...(weight ? [weight.size * 4] : []), ...(act.length ? [act.length * 4] : [])];
  const prepare = (k: WasmKernels, at: PrepareContext): void => {
    if (weight) new Float32Array(k.memory.buffer, at.persistent[0]!, weight.size).set(toNumbers(weight));
    if (act.length) new Int32Array(k.memory.buffer, at.persistent[weight ? 1 : 0]!, act.length).set(act);
  };
  const weightAt = (at: WasmStepAddresses): number => (weight ? at.persistent[0]! : at.inputs[1]!);
  // the tail's arguments: the activation alone in place, or the backend's program (activation + chain)
  const tailArgs = (at: WasmStepAddresses, t: TailProgram | undefined, actSlot = weight ? 1 : 0): number[] => {
    if (t) return [t.program, t.pre, t.count, t.out];
    const n = act.length / CHAIN_WORDS;
    return n ? [at.persistent[actSlot]!, n, n, at.outputs[0]!] : [0, 0, 0, 0];
  };
  const withTail = (make: (t: TailProgram | undefined) => WasmStep): WasmStep => ({ ...make(undefined), tail: { prologue: act, withTail: (t) => make(t) } });

  // kernels/wasm/src/conv-f32.c holds at most 49 taps splatted (MAX_DEPTHWISE_TAPS)
  if (g.cinG === 1 && g.coutG === 1 && kh * kw <= 49) {
    const ow8 = Math.ceil(ow / 8) * 8;
    const planeBytes = ((oh - 1) * sh + (kh - 1) * dh + 1) * (ow8 * sw + (kw - 1) * dw + 8) * 4;
    const planes = g.batch * g.group;
    return withTail((t) => {
      const call = oncePerLayout((at) => ({
        args: [at.inputs[0]!, weightAt(at), biasAt(at.inputs), at.outputs[0]!, at.scratch, g.batch, g.group, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, flags, lo, hi, ...tailArgs(at, t)],
        floats: DEPTHWISE_FLOATS, rows: planes, scratchArg: 4, scratchStride: planeBytes, work: outFloats * kh * kw * DEPTHWISE_MAC_COST,
      }));
      return { reads, scratchBytes: Math.min(MAX_ROW_PARTS, planes) * planeBytes, persistentBytes, prepare, run: (k, at) => k.parallelRows('kiln_conv_depthwise_f32', call(at)) };
    });
  }
  // a 3x3 stride-1 conv with a constant weight: Winograd (wasm-winograd.ts); its activation program (when it has one) after U
  const constW = weight ?? ctx.constants?.[1];
  if (constW?.type === 'float32' && winogradShape({ kh, kw, sh, sw, dh, dw, group: g.group, cin: g.cinG, cout: g.coutG })) {
    const c = { batch: g.batch, cin: g.cinG, cout: g.coutG, ih, iw, oh, ow, ph, pw, clamp: epilogue.clamp };
    return withTail((t) => winogradStep(c, constW, bias !== undefined, act, (at) => tailArgs(at, t, 1)));
  }
  const K = g.cinG * kh * kw;
  const chunk = chunkPositions(K, oh * ow, g.batch * g.group);
  const units = g.batch * g.group * Math.ceil((oh * ow) / chunk);
  const chunkBytes = packedBBytes(K, chunk);
  return withTail((t) => {
    const call = oncePerLayout((at) => ({
      args: [at.inputs[0]!, weightAt(at), biasAt(at.inputs), at.outputs[0]!, at.scratch, g.batch, g.group, g.cinG, g.coutG, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, chunk, flags, lo, hi, ...tailArgs(at, t)],
      floats: CONV_FLOATS, rows: units, scratchArg: 4, scratchStride: chunkBytes, work: outFloats * K,
    }));
    return { reads, scratchBytes: Math.min(MAX_ROW_PARTS, units) * chunkBytes, persistentBytes, prepare, run: (k, at) => k.parallelRows('kiln_conv_f32', call(at)) };
  });
}

const conv: WasmKernel = (inputs, outputs, ctx) => lowerConvF32(inputs, outputs, ctx);

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Conv')]: conv };
