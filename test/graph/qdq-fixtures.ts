// QDQ models in the node patterns onnxruntime's quantizer (quantize_static, QuantFormat.QDQ) and
// PyTorch's exporter emit, built by hand from random float weights (test data, not the compressor).
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

export const randn = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);

export interface QuantizedWeight {
  readonly q: AnyTensor;
  readonly scale: AnyTensor;
  readonly zp?: AnyTensor;
  readonly attrs: Record<string, number>;
}

const RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int4: [-8, 7], uint4: [0, 15] };

/**
 * Quantizes w (dims) with one scale per `axis` index (per-channel), per `block` elements along
 * `axis` (blocked), or one scale (axis undefined). Signed types symmetric (zp 0, omitted), unsigned
 * asymmetric with a zero point.
 */
export function quantizeWeight(w: Float32Array, dims: readonly number[], dtype: 'int8' | 'uint8' | 'int4' | 'uint4', axis?: number, block = 0): QuantizedWeight {
  const [lo, hi] = RANGE[dtype]!;
  const signed = lo < 0;
  const inner = axis === undefined ? 1 : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const axisDim = axis === undefined ? 1 : dims[axis]!;
  const pAxis = block ? Math.ceil(axisDim / block) : axisDim;
  const pDims = axis === undefined ? [] : block ? dims.map((d, i) => (i === axis ? pAxis : d)) : [axisDim];
  const nParams = pDims.reduce((a, b) => a * b, 1);
  const paramOf = (i: number): number => {
    if (axis === undefined) return 0;
    const a = Math.floor(i / inner) % axisDim;
    if (!block) return a;
    const outer = Math.floor(i / (inner * axisDim));
    return (outer * pAxis + Math.floor(a / block)) * inner + (i % inner);
  };
  const mn = new Float64Array(nParams).fill(0);
  const mx = new Float64Array(nParams).fill(0);
  w.forEach((v, i) => {
    const p = paramOf(i);
    mn[p] = Math.min(mn[p]!, v);
    mx[p] = Math.max(mx[p]!, v);
  });
  const scale = new Float32Array(nParams);
  const zp = new Float64Array(nParams);
  for (let p = 0; p < nParams; p++) {
    if (signed) scale[p] = Math.max(Math.abs(mn[p]!), Math.abs(mx[p]!)) / hi || 1;
    else {
      scale[p] = (mx[p]! - mn[p]!) / (hi - lo) || 1;
      zp[p] = Math.min(hi, Math.max(lo, Math.round(lo - mn[p]! / scale[p]!)));
    }
  }
  const qv = Array.from(w, (v, i) => Math.min(hi, Math.max(lo, Math.round(v / scale[paramOf(i)]!) + zp[paramOf(i)]!)));
  const data = signed ? Int8Array.from(qv) : Uint8Array.from(qv);
  const attrs: Record<string, number> = {};
  if (axis !== undefined) attrs.axis = axis;
  if (block) attrs.block_size = block;
  return {
    q: new Tensor(dtype as DataType, data, dims),
    scale: new Tensor('float32', scale, pDims),
    zp: signed ? undefined : new Tensor(dtype as DataType, signed ? Int8Array.from(zp) : Uint8Array.from(zp), pDims),
    attrs,
  };
}

/** x -> QuantizeLinear -> DequantizeLinear (uint8 asymmetric activation, onnxruntime's default). */
export function activationQdq(name: string, input: string, scale: number, zp: number, inits: Map<string, AnyTensor>): { nodes: WriterNode[]; output: string } {
  inits.set(`${name}_scale`, new Tensor('float32', new Float32Array([scale]), []));
  inits.set(`${name}_zp`, new Tensor('uint8', new Uint8Array([zp]), []));
  return {
    nodes: [
      { opType: 'QuantizeLinear', name: `${name}_Q`, inputs: [input, `${name}_scale`, `${name}_zp`], outputs: [`${name}_q`] },
      { opType: 'DequantizeLinear', name: `${name}_DQ`, inputs: [`${name}_q`, `${name}_scale`, `${name}_zp`], outputs: [`${name}_dq`] },
    ],
    output: `${name}_dq`,
  };
}

/** Weight DequantizeLinear node plus its initializers. */
export function weightDq(name: string, w: QuantizedWeight, inits: Map<string, AnyTensor>): { node: WriterNode; output: string } {
  inits.set(`${name}_q`, w.q);
  inits.set(`${name}_scale`, w.scale);
  if (w.zp) inits.set(`${name}_zp`, w.zp);
  return {
    node: { opType: 'DequantizeLinear', name: `${name}_DQ`, inputs: [`${name}_q`, `${name}_scale`, ...(w.zp ? [`${name}_zp`] : [])], outputs: [`${name}_w`], attrs: w.attrs },
    output: `${name}_w`,
  };
}

/** int32 bias with scale x_scale * w_scale and zero point 0, as onnxruntime's quantizer stores it. */
export function biasDq(name: string, b: Float32Array, scale: number, inits: Map<string, AnyTensor>): { node: WriterNode; output: string } {
  inits.set(`${name}_bq`, new Tensor('int32', Int32Array.from(b, (v) => Math.round(v / scale)), [b.length]));
  inits.set(`${name}_bscale`, new Tensor('float32', new Float32Array([scale]), []));
  return { node: { opType: 'DequantizeLinear', name: `${name}_bDQ`, inputs: [`${name}_bq`, `${name}_bscale`], outputs: [`${name}_b`] }, output: `${name}_b` };
}

export type { WriterModel };
