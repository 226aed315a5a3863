import type { DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { floatToHalf, halfToFloat } from '../../core/float16.ts';
import type { KernelContext, TensorMeta } from '../contract.ts';
import { normalizeAxis } from './shape.ts';

/**
 * Node attribute set by the QDQ lowering on QLinearConv / QLinearMatMul: requantize as onnxruntime's MLAS
 * does (see qlinear-conv/op.ts). Here, not in those families, so the graph passes can name it without
 * pulling the quantized op group (a lazy chunk, kernels/lazy-families.ts) into the core bundle.
 */
export const ORT_REQUANT_ATTR = 'kiln_ort_requant';

/**
 * Shared pieces of the quantized ops (QuantizeLinear/DequantizeLinear, QLinear*, *Integer,
 * MatMulNBits): integer type ranges, round-half-to-even, the float precision ONNX computes scale
 * arithmetic in, per-tensor / per-axis / blocked parameter indexing, and exact requantization.
 * Every CPU function here has a WGSL twin (kernels/webgpu/quant-wgsl.ts) so both backends give
 * bit-identical integer results.
 */

/** Saturation ranges of the integer types a quantized tensor may have. */
export const QUANT_RANGES: Readonly<Partial<Record<DataType, readonly [number, number]>>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint4: [0, 15],
  int4: [-8, 7],
};

export const QUANT_TYPES = Object.keys(QUANT_RANGES) as DataType[];
export const EIGHT_BIT_TYPES = ['uint8', 'int8'] as const;

export function quantRange(dtype: DataType, ctx: KernelContext, what: string): readonly [number, number] {
  const r = QUANT_RANGES[dtype];
  if (!r) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} type ${dtype} is not a quantized integer type (${QUANT_TYPES.join(', ')})`);
  return r;
}

// in a module of their own: the core download's fused programs use them (bundle)
import { roundHalfEven } from './round-half-even.ts';
export { clampTo, quantizeValue, roundHalfEven } from './round-half-even.ts';

/** The float type an ONNX op does its scale arithmetic in (numpy semantics: each step rounds to it). */
export type FloatPrecision = 'float16' | 'float32' | 'float64';

export function precisionOf(dtype: DataType): FloatPrecision {
  return dtype === 'float16' ? 'float16' : dtype === 'float64' ? 'float64' : 'float32';
}

/** The wider of two precisions (numpy promotion between float arrays). */
export function widerPrecision(a: FloatPrecision, b: FloatPrecision): FloatPrecision {
  const rank = { float16: 0, float32: 1, float64: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

export function roundTo(p: FloatPrecision, v: number): number {
  return p === 'float32' ? Math.fround(v) : p === 'float16' ? halfToFloat(floatToHalf(v)) : v;
}

/** (a * b) / c with each step rounded to `p`: the requantization multiplier of QLinearMatMul/QLinearConv. */
export function requantMultiplier(a: number, b: number, c: number, p: FloatPrecision): number {
  return roundTo(p, roundTo(p, a * b) / c);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * round-half-even(acc * m), exactly (ONNX computes it in float64, where it is exact for |acc| <
 * 2^29 since m has a 24-bit significand; beyond that BigInt keeps it exact). The WGSL twin
 * (wgslRequant) does the same product in emulated 64-bit integers, so both backends agree.
 */
export function mulRoundHalfEven(acc: number, m: number): number {
  if (Math.abs(acc) < 2 ** 29 || Math.fround(m) !== m || !Number.isFinite(m)) return roundHalfEven(acc * m);
  f32[0] = m;
  const bits = u32[0]!;
  const ex = (bits >>> 23) & 0xff;
  const sig = ex === 0 ? bits & 0x7fffff : (bits & 0x7fffff) | 0x800000;
  const e = (ex === 0 ? 1 : ex) - 150;
  const p = BigInt(Math.abs(acc)) * BigInt(sig);
  let q: bigint;
  if (e >= 0) q = p << BigInt(e);
  else {
    const s = BigInt(-e);
    q = p >> s;
    const rem = p - (q << s);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const neg = acc < 0 !== (bits >>> 31 === 1);
  return neg && q !== 0n ? -Number(q) : Number(q); // never -0: the result is an integer
}

// ---------------------------------------------------------------------------------------------
// Parameter layout: which scale / zero point applies to element i of x.
// ---------------------------------------------------------------------------------------------

export interface QuantParamLayout {
  readonly kind: 'tensor' | 'axis' | 'blocked';
  readonly axis: number;
  readonly blockSize: number;
  /** product of x's dims after `axis` */
  readonly inner: number;
  /** x's size along `axis` */
  readonly axisDim: number;
  /** the parameter's size along `axis` (blocked) */
  readonly paramAxisDim: number;
}

const dimsText = (d: readonly number[]): string => `[${d.join(', ')}]`;
const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

/**
 * Per-tensor (one value), per-axis (1-D along `axis`, opset >= 13) or blocked (same rank as x,
 * `block_size` elements of `axis` per value, opset >= 21), as QuantizeLinear/DequantizeLinear define.
 */
export function quantParamLayout(x: TensorMeta, scale: TensorMeta, zp: TensorMeta | undefined, ctx: KernelContext, scaleName: string): QuantParamLayout {
  const blockSize = ctx.attrs.int('block_size', 0);
  if (blockSize < 0) fail('INVALID_GRAPH', `node '${ctx.node}': block_size must be >= 0, got ${blockSize}`);
  if (zp && (zp.dims.length !== scale.dims.length || zp.dims.some((d, i) => d !== scale.dims[i])) && !(sizeOf(zp.dims) === 1 && sizeOf(scale.dims) === 1)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': zero point shape ${dimsText(zp.dims)} differs from ${scaleName} shape ${dimsText(scale.dims)}`);
  }
  const tensor: QuantParamLayout = { kind: 'tensor', axis: 0, blockSize: 0, inner: 1, axisDim: 1, paramAxisDim: 1 };
  if (sizeOf(scale.dims) === 1 && (scale.dims.length <= 1 || ctx.opset >= 21)) return tensor;
  const rank = x.dims.length;
  if (rank === 0) fail('INVALID_GRAPH', `node '${ctx.node}': ${scaleName} ${dimsText(scale.dims)} must be a scalar for a scalar input`);
  const axis = normalizeAxis(ctx.attrs.int('axis', 1), rank, ctx);
  const inner = sizeOf(x.dims.slice(axis + 1));
  const axisDim = x.dims[axis]!;
  if (blockSize > 0) {
    if (ctx.opset < 21) fail('INVALID_GRAPH', `node '${ctx.node}': blocked quantization (block_size) needs opset >= 21, the model imports ${ctx.opset}`);
    const want = x.dims.map((d, i) => (i === axis ? Math.ceil(d / blockSize) : d));
    if (scale.dims.length !== rank || scale.dims.some((d, i) => d !== want[i])) {
      fail('INVALID_GRAPH', `node '${ctx.node}': ${scaleName} has shape ${dimsText(scale.dims)}, expected ${dimsText(want)} for block_size ${blockSize} on axis ${axis} of ${dimsText(x.dims)}`);
    }
    return { kind: 'blocked', axis, blockSize, inner, axisDim, paramAxisDim: want[axis]! };
  }
  if (ctx.opset < 13) fail('INVALID_GRAPH', `node '${ctx.node}': ${scaleName} must be a scalar before opset 13, got ${dimsText(scale.dims)}`);
  if (scale.dims.length !== 1 || scale.dims[0] !== axisDim) {
    fail('INVALID_GRAPH', `node '${ctx.node}': ${scaleName} has shape ${dimsText(scale.dims)}, expected a scalar or [${axisDim}] (x ${dimsText(x.dims)} along axis ${axis})`);
  }
  return { kind: 'axis', axis, blockSize: 0, inner, axisDim, paramAxisDim: axisDim };
}

/** For each flat element of x, the flat index of its parameter; undefined for per-tensor. */
export function paramIndexMap(l: QuantParamLayout, size: number): Int32Array | undefined {
  if (l.kind === 'tensor') return undefined;
  const map = new Int32Array(size);
  const outer = l.inner * l.axisDim === 0 ? 0 : size / (l.inner * l.axisDim);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < l.axisDim; a++) {
      const base = l.kind === 'axis' ? a : (o * l.paramAxisDim + Math.floor(a / l.blockSize)) * l.inner;
      if (l.kind === 'axis') map.fill(base, i, i + l.inner);
      else for (let k = 0; k < l.inner; k++) map[i + k] = base + k;
      i += l.inner;
    }
  }
  return map;
}
