// The 8-bit integer GEMM's lowerings (kernels/wasm/src/gemm-s8.c), shared by MatMulInteger /
// QLinearMatMul (integer matmuls) and ConvInteger / QLinearConv (integer convs, im2col + GEMM).
// Operands are widened to int16 minus their zero points; constant weights are widened or packed
// once at session creation into persistent memory, fed ones per run into scratch. Requantization
// multipliers (scale products, float32 steps as the op's reference) are computed once when the
// scales are constants, else per run from the scales in memory.
import type { ConvGeometry } from '../common/conv-attributes.ts';
import { requantMultiplier } from '../common/quant.ts';
import { toNumbers } from '../common/values.ts';
import type { MaybeMeta, TensorMeta } from '../contract.ts';
import type { IntMatmulShape } from '../matmul-integer/op.ts';
import type { PrepareContext, WasmExport, WasmKernelContext, WasmKernels, WasmStep, WasmStepAddresses } from './contract.ts';
import { dwconvS16, dwconvScratchBytes, gemmS16 } from './gemm-s8-parallel.ts';

const NR = 8;
const A16 = (n: number): number => Math.ceil(n / 16) * 16;
const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);
/** K rounded up to even: the GEMM consumes rows of A and B in pairs */
const evenK = (k: number): number => (k + 1) & ~1;
const packedBytes = (k: number, n: number): number => Math.ceil(n / NR) * NR * evenK(k) * 2;
const EIGHT_BIT = new Set(['int8', 'uint8']);

/** out_mode of kiln_gemm_s16 */
export const OUT_I32 = 0, OUT_MLAS = 1, OUT_EXACT = 2;

/** How a quantized op turns int32 accumulators into its output: the slots of its scales and zero point. */
export interface Requant {
  /** scale slots whose product over the output scale is the multiplier: [input scale, weight scale (per channel allowed), output scale] */
  readonly scales: readonly [number, number, number];
  /** output zero point slot, if the node has one */
  readonly zeroPoint?: number;
  /** onnxruntime's float32 rounding (kiln_ort_requant) instead of the exact one */
  readonly mlas: boolean;
  readonly range: readonly [number, number];
  /** slot of a folded kiln.QLinearLookup's 8-bit table (qlinear-lookup/epilogue.ts), when the node has one */
  readonly table?: number;
}

/** Reads a (small) parameter input: its constant value, else its bytes in memory. */
function paramValues(k: WasmKernels, at: WasmStepAddresses | undefined, ctx: WasmKernelContext, inputs: readonly MaybeMeta[], slot: number): ArrayLike<number> {
  const c = ctx.constants[slot];
  if (c) return toNumbers(c);
  const meta = inputs[slot]!;
  const n = count(meta.dims);
  const off = at!.inputs[slot]!;
  return meta.dtype === 'float32' ? new Float32Array(k.memory.buffer, off, n) : meta.dtype === 'int8' ? new Int8Array(k.memory.buffer, off, n) : new Uint8Array(k.memory.buffer, off, n);
}

/**
 * The requantization's run-time pieces: multipliers (one per weight channel, padded to whole
 * panels) and the output zero point. Constant parameters are resolved at prepare.
 */
function requantPlan(r: Requant | undefined, inputs: readonly MaybeMeta[], ctx: WasmKernelContext, channels: number) {
  if (!r) return undefined;
  for (const s of r.scales) if (inputs[s]?.dtype !== 'float32') return undefined;
  const constScales = r.scales.every((s) => ctx.constants[s] !== undefined);
  const constZp = r.zeroPoint === undefined || !inputs[r.zeroPoint] || ctx.constants[r.zeroPoint] !== undefined;
  const padded = Math.ceil(channels / NR) * NR;
  const reads = [...(constScales ? [] : r.scales), ...(constZp || r.zeroPoint === undefined ? [] : [r.zeroPoint])];
  const multipliers = (values: readonly ArrayLike<number>[]): Float32Array => {
    const [x, w, y] = values;
    const m = new Float32Array(padded);
    for (let c = 0; c < channels; c++) m[c] = requantMultiplier(x![0]!, w![w!.length === 1 ? 0 : c]!, y![0]!, 'float32');
    return m;
  };
  // constant scales whose multiplier is not finite (a zero y_scale) decline: the js path's NaN/Infinity handling is its own
  const fixed = constScales ? multipliers(r.scales.map((s) => toNumbers(ctx.constants[s]!))) : undefined;
  if (fixed && !fixed.every(Number.isFinite)) return undefined;
  const write = (k: WasmKernels, at: WasmStepAddresses | undefined, off: number): void => {
    new Float32Array(k.memory.buffer, off, padded).set(fixed ?? multipliers(r.scales.map((s) => paramValues(k, at, ctx, inputs, s))));
  };
  const zeroPoint = (k: WasmKernels, at: WasmStepAddresses | undefined): number => (r.zeroPoint === undefined || !inputs[r.zeroPoint] ? 0 : paramValues(k, at, ctx, inputs, r.zeroPoint)[0]!);
  // a folded lookup table: constant (the pass only folds constant ones), copied once at prepare
  const tableTensor = r.table === undefined || !inputs[r.table] ? undefined : ctx.constants[r.table];
  if (r.table !== undefined && inputs[r.table] && !tableTensor) return undefined;
  const table = tableTensor && new Uint8Array((tableTensor.data as Uint8Array | Int8Array).buffer, (tableTensor.data as Uint8Array | Int8Array).byteOffset, 256);
  // the table's index is the requantized value minus its type's minimum: flip the sign bit of int8 bytes
  const flip = r.range[0] < 0 ? 0x80 : 0;
  return { constScales, constZp, bytes: padded * 4, reads, write, zeroPoint, mode: r.mlas ? OUT_MLAS : OUT_EXACT, range: r.range, table, flip };
}

/** Looks up an export once (at prepare, so a stale module fails at session creation). */
function exportsOf(names: readonly string[]): { load(k: WasmKernels): void; get(k: WasmKernels, i: number): WasmExport } {
  let fns: WasmExport[] | undefined;
  return {
    load: (k) => void (fns = names.map((n) => k.fn(n))),
    get: (k, i) => (fns ??= names.map((n) => k.fn(n)))[i]!,
  };
}

const isScalar = (m: MaybeMeta): boolean => !m || count(m.dims) === 1;

// ---------------------------------------------------------------------------------------------
// MatMulInteger / QLinearMatMul
// ---------------------------------------------------------------------------------------------

export interface IntMatmulSlots {
  readonly a: number;
  readonly az: number;
  readonly b: number;
  readonly bz: number;
}

/**
 * (A - az)(B - bz) per batch matrix, then the requantization or int32. a's zero point may vary
 * per row; scales of a or y that vary per row and per-matrix parameters decline (they run js).
 */
export function lowerIntMatmul(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: WasmKernelContext, slots: IntMatmulSlots, s: IntMatmulShape, requant?: Requant): WasmStep | undefined {
  const [a, b, az, bz] = [inputs[slots.a], inputs[slots.b], inputs[slots.az], inputs[slots.bz]];
  if (!a || !b || !EIGHT_BIT.has(a.dtype) || !EIGHT_BIT.has(b.dtype)) return undefined;
  const { M, K, N } = s;
  // a's zero point: one, or one per row of A (shape [M]); one per matrix declines
  const azPerRow = !!az && !isScalar(az);
  if (azPerRow && (az.dims.length !== 1 || az.dims[0] !== M)) return undefined;
  const bzPerCol = !!bz && !isScalar(bz);
  if (bzPerCol && (bz.dims.length !== 1 || bz.dims[0] !== N)) return undefined;
  if (requant) {
    const [x, w, y] = requant.scales.map((slot) => inputs[slot]);
    if (!isScalar(x) || !isScalar(y) || (requant.zeroPoint !== undefined && !isScalar(inputs[requant.zeroPoint]))) return undefined;
    if (!isScalar(w) && (w!.dims.length !== 1 || w!.dims[0] !== N)) return undefined;
  }
  const rq = requantPlan(requant, inputs, ctx, N);
  if (requant && !rq) return undefined;
  if (count(outputs[0]!.dims) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const kp = evenK(K);
  const aSigned = a.dtype === 'int8' ? 1 : 0;
  const bSigned = b.dtype === 'int8' ? 1 : 0;
  const prepacked = ctx.constants[slots.b] !== undefined && (!bz || ctx.constants[slots.bz] !== undefined);
  const packed = packedBytes(K, N);
  const outBytes = rq ? 1 : 4;
  // each batch matrix's A / B element offsets
  const pairs: [number, number][] = [];
  const idx = new Array<number>(s.batchDims.length).fill(0);
  for (let bi = 0; bi < s.batch; bi++) {
    let [ao, bo] = [0, 0];
    for (let d = 0; d < idx.length; d++) [ao, bo] = [ao + idx[d]! * s.aBatchStrides[d]!, bo + idx[d]! * s.bBatchStrides[d]!];
    pairs.push([ao, K * N === 0 ? 0 : bo / (K * N)]);
    for (let d = idx.length - 1; d >= 0 && ++idx[d]! === s.batchDims[d]!; d--) idx[d] = 0;
  }
  const fns = exportsOf(['kiln_widen_a_s16', 'kiln_pack_b_s16', 'kiln_gemm_s16']);
  const packB = (k: WasmKernels, src: number, zp: number, out: number): void => {
    for (let mat = 0; mat < s.bMatrices; mat++) fns.get(k, 1)(src + mat * K * N, N, K, N, 0, bSigned, zp, bzPerCol ? 1 : 0, out + mat * packed);
  };
  const persistent: number[] = [];
  const P_B = prepacked ? persistent.push(s.bMatrices * packed) - 1 : -1;
  const P_M = rq?.constScales ? persistent.push(rq.bytes) - 1 : -1;
  const P_T = rq?.table ? persistent.push(256) - 1 : -1;
  const aBytes = A16(M * kp * 2);
  const bScratch = prepacked ? 0 : A16(s.bMatrices * packed);
  const mScratch = rq && !rq.constScales ? rq.bytes : 0;
  const reads = [slots.a, ...(az ? [slots.az] : []), ...(prepacked ? [] : [slots.b, ...(bz ? [slots.bz] : [])]), ...(rq?.reads ?? [])];
  let constZp = 0;
  return {
    reads,
    scratchBytes: aBytes + bScratch + mScratch,
    persistentBytes: persistent,
    prepare(k: WasmKernels, at: PrepareContext) {
      fns.load(k);
      if (prepacked) packB(k, at.stage(ctx.constants[slots.b]!), bz ? at.stage(ctx.constants[slots.bz]!) : 0, at.persistent[P_B]!);
      if (rq?.constScales) rq.write(k, undefined, at.persistent[P_M]!);
      if (rq?.constZp) constZp = rq.zeroPoint(k, undefined);
      if (rq?.table) new Uint8Array(k.memory.buffer, at.persistent[P_T]!, 256).set(rq.table);
    },
    run(k, at) {
      const aWide = at.scratch;
      const bPacked = prepacked ? at.persistent[P_B]! : at.scratch + aBytes;
      if (!prepacked) packB(k, at.inputs[slots.b]!, bz ? at.inputs[slots.bz]! : 0, bPacked);
      let mult = 0;
      if (rq) {
        mult = rq.constScales ? at.persistent[P_M]! : at.scratch + aBytes + bScratch;
        if (!rq.constScales) rq.write(k, at, mult);
      }
      const zp = rq ? (rq.constZp ? constZp : rq.zeroPoint(k, at)) : 0;
      const [lo, hi] = rq?.range ?? [0, 0];
      const table = rq?.table ? at.persistent[P_T]! : 0;
      const azAt = az ? at.inputs[slots.az]! : 0;
      let widened = -1;
      pairs.forEach(([ao, bm], bi) => {
        if (ao !== widened) fns.get(k, 0)(at.inputs[slots.a]! + ao, K, M, K, aSigned, azAt, azPerRow ? 1 : 0, aWide, kp);
        widened = ao;
        gemmS16(k, [aWide, kp, bPacked + bm * packed, at.outputs[0]! + bi * M * N * outBytes, N, M, N, kp, rq?.mode ?? OUT_I32, 0, 0, mult, 0, zp, lo, hi, table, rq?.flip ?? 0]);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ConvInteger / QLinearConv
// ---------------------------------------------------------------------------------------------

export interface IntConvSlots {
  readonly x: number;
  readonly xz: number;
  readonly w: number;
  readonly wz: number;
  /** int32 bias per output channel (QLinearConv), if the op has one */
  readonly bias?: number;
}

/**
 * Per image and group: im2col of x - xz into the GEMM's panels, then (W - wz) (widened once when
 * constant) times it, so the output comes out in NCHW order; depthwise convs (one channel per
 * group) run a direct kernel instead. 1-D and 2-D convs; 3-D declines.
 */
export function lowerIntConv(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: WasmKernelContext, slots: IntConvSlots, g: ConvGeometry, requant?: Requant): WasmStep | undefined {
  const [x, w, xz, wz] = [inputs[slots.x], inputs[slots.w], inputs[slots.xz], inputs[slots.wz]];
  const bias = slots.bias === undefined ? undefined : inputs[slots.bias];
  const rank = g.inDims.length;
  if (!x || !w || !EIGHT_BIT.has(x.dtype) || !EIGHT_BIT.has(w.dtype) || !isScalar(xz) || (rank !== 1 && rank !== 2)) return undefined;
  if (bias && bias.dtype !== 'int32') return undefined;
  const cout = g.coutG * g.group;
  const rq = requantPlan(requant, inputs, ctx, cout);
  if (requant && !rq) return undefined;
  if (count(outputs[0]!.dims) === 0) return { reads: [], scratchBytes: 0, persistentBytes: [], run: () => {} };
  const pick = (v: readonly number[], one: number): [number, number] => (rank === 2 ? [v[0]!, v[1]!] : [one, v[0]!]);
  const [[ih, iw], [oh, ow], [kh, kw]] = [pick(g.inDims, 1), pick(g.outDims, 1), pick(g.kernel, 1)];
  const [[sh, sw], [ph, pw], [dh, dw]] = [pick(g.strides, 1), pick(g.padBegin, 0), pick(g.dilations, 1)];
  const K = g.cinG * kh * kw;
  // depthwise runs a direct kernel with W rows of kh * kw taps; the GEMM wants them even
  const depthwise = g.cinG === 1 && g.coutG === 1;
  const kp = depthwise ? K : evenK(K);
  const S = oh * ow;
  const xSigned = x.dtype === 'int8' ? 1 : 0;
  const wSigned = w.dtype === 'int8' ? 1 : 0;
  const wzPerRow = !!wz && !isScalar(wz);
  const constW = ctx.constants[slots.w] !== undefined && (!wz || ctx.constants[slots.wz] !== undefined);
  const wBytes = A16(cout * kp * 2);
  const ow8 = Math.ceil(ow / 8) * 8;
  const dwPlane = ((oh - 1) * sh + (kh - 1) * dh + 1) * (ow8 * sw + (kw - 1) * dw + 8) * 2;
  const colBytes = depthwise ? dwconvScratchBytes(A16(dwPlane)) : A16(packedBytes(K, S));
  const outBytes = rq ? 1 : 4;
  // 1x1, stride 1, no padding: x's channels are B's rows as they are (packed without im2col)
  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0 && oh === ih && ow === iw;
  const fns = exportsOf(['kiln_widen_a_s16', 'kiln_im2col_s16', 'kiln_gemm_s16', 'kiln_dwconv_s16', 'kiln_pack_b_s16']);
  const widenW = (k: WasmKernels, src: number, zp: number, out: number): void => void fns.get(k, 0)(src, K, cout, K, wSigned, zp, wzPerRow ? 1 : 0, out, kp);
  const persistent: number[] = [];
  const P_W = constW ? persistent.push(wBytes) - 1 : -1;
  const P_M = rq?.constScales ? persistent.push(rq.bytes) - 1 : -1;
  const P_T = rq?.table ? persistent.push(256) - 1 : -1;
  const mScratch = rq && !rq.constScales ? rq.bytes : 0;
  const xzConst = ctx.constants[slots.xz];
  const constXz = !xz ? 0 : xzConst ? toNumbers(xzConst)[0]! : undefined;
  const reads = [slots.x, ...(xz ? [slots.xz] : []), ...(constW ? [] : [slots.w, ...(wz ? [slots.wz] : [])]), ...(bias ? [slots.bias!] : []), ...(rq?.reads ?? [])];
  let constZp = 0;
  return {
    reads,
    scratchBytes: colBytes + (constW ? 0 : wBytes) + mScratch,
    persistentBytes: persistent,
    prepare(k, at) {
      fns.load(k);
      if (constW) widenW(k, at.stage(ctx.constants[slots.w]!), wz ? at.stage(ctx.constants[slots.wz]!) : 0, at.persistent[P_W]!);
      if (rq?.constScales) rq.write(k, undefined, at.persistent[P_M]!);
      if (rq?.constZp) constZp = rq.zeroPoint(k, undefined);
      if (rq?.table) new Uint8Array(k.memory.buffer, at.persistent[P_T]!, 256).set(rq.table);
    },
    run(k, at) {
      const col = at.scratch;
      const wWide = constW ? at.persistent[P_W]! : at.scratch + colBytes;
      if (!constW) widenW(k, at.inputs[slots.w]!, wz ? at.inputs[slots.wz]! : 0, wWide);
      let mult = 0;
      if (rq) {
        mult = rq.constScales ? at.persistent[P_M]! : at.scratch + colBytes + (constW ? 0 : wBytes);
        if (!rq.constScales) rq.write(k, at, mult);
      }
      const zp = rq ? (rq.constZp ? constZp : rq.zeroPoint(k, at)) : 0;
      const [lo, hi] = rq?.range ?? [0, 0];
      const [table, flip] = rq?.table ? [at.persistent[P_T]!, rq.flip] : [0, 0];
      const xzv = constXz ?? (xz ? paramValues(k, at, ctx, inputs, slots.xz)[0]! : 0);
      const biasAt = bias ? at.inputs[slots.bias!]! : 0;
      if (depthwise) {
        dwconvS16(k, [at.inputs[slots.x]!, xSigned, xzv, wWide, at.outputs[0]!, g.batch, cout, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, rq?.mode ?? OUT_I32, biasAt, mult, zp, lo, hi, table, flip, col], A16(dwPlane));
        return;
      }
      for (let n = 0; n < g.batch; n++) {
        for (let grp = 0; grp < g.group; grp++) {
          const xAt = at.inputs[slots.x]! + (n * g.group + grp) * g.cinG * ih * iw;
          if (pointwise) fns.get(k, 4)(xAt, S, g.cinG, S, 0, xSigned, xz ? at.inputs[slots.xz]! : 0, 0, col);
          else fns.get(k, 1)(xAt, xSigned, xzv, g.cinG, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, col);
          const row0 = grp * g.coutG;
          const yAt = at.outputs[0]! + (n * cout + row0) * S * outBytes;
          gemmS16(k, [wWide + row0 * kp * 2, kp, col, yAt, S, g.coutG, S, kp, rq?.mode ?? OUT_I32, bias ? biasAt + row0 * 4 : 0, 1, mult ? mult + row0 * 4 : 0, 1, zp, lo, hi, table, flip]);
        }
      }
    },
  };
}
