// Weight quantization for `kiln compress`: symmetric (zero point 0) integers with float32 scales,
// one scale per output channel (int8) or per block of `block` input values (int4), the forms
// onnxruntime's quantizer writes (quantize_static per_channel with symmetric int8 weights, and the
// 4-bit blocked weights of its MatMul 4-bit quantizer in QDQ format).
import { Tensor, type AnyTensor } from '../../core/tensor.ts';

export interface QuantizedWeight {
  readonly q: AnyTensor;
  readonly scale: AnyTensor;
  /** DequantizeLinear attributes */
  readonly attrs: Readonly<Record<string, number>>;
  /** per-output-channel scales (for the int32 bias), when the scale is one per output channel */
  readonly channelScales?: Float32Array;
}

const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

/** int8, one scale per index of `axis`, range [-127, 127] (symmetric, as onnxruntime's int8 weights). */
export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number): QuantizedWeight {
  const inner = sizeOf(dims.slice(axis + 1));
  const n = dims[axis]!;
  const absMax = new Float64Array(n);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % n;
    absMax[c] = Math.max(absMax[c]!, Math.abs(w[i]!));
  }
  const scale = Float32Array.from(absMax, (m) => (m > 0 ? Math.fround(m / 127) : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale[Math.floor(i / inner) % n]!)));
  return { q: new Tensor('int8', q, dims), scale: new Tensor('float32', scale, [n]), attrs: { axis }, channelScales: scale };
}

/**
 * int4, one scale per `block` consecutive values along `axis` (and per index of every other axis),
 * range [-7, 7]: DequantizeLinear's blocked layout (opset 21), scales shaped like the weight with
 * `axis` divided by the block (rounded up).
 */
export function quantizeBlocked(w: Float32Array, dims: readonly number[], axis: number, block: number): QuantizedWeight {
  const inner = sizeOf(dims.slice(axis + 1));
  const n = dims[axis]!;
  const nb = Math.ceil(n / block);
  const outer = sizeOf(dims.slice(0, axis));
  const sDims = dims.map((d, i) => (i === axis ? nb : d));
  const param = (i: number): number => {
    const o = Math.floor(i / (inner * n));
    const a = Math.floor(i / inner) % n;
    return (o * nb + Math.floor(a / block)) * inner + (i % inner);
  };
  const absMax = new Float64Array(outer * nb * inner);
  for (let i = 0; i < w.length; i++) absMax[param(i)] = Math.max(absMax[param(i)]!, Math.abs(w[i]!));
  const scale = Float32Array.from(absMax, (m) => (m > 0 ? Math.fround(m / 7) : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-7, Math.min(7, Math.round(w[i]! / scale[param(i)]!)));
  return { q: new Tensor('int4', q, dims), scale: new Tensor('float32', scale, sDims), attrs: { axis, block_size: block } };
}
