import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { quantizeValue } from '../common/quant.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeTensor } from '../contract.ts';
import { opKey } from '../contract.ts';
import { dequantizeReference, planDequantize, planQuantize, quantizeReference } from './op.ts';

/**
 * The per-tensor 8-bit case with float32 x / y and scale (every activation of a QDQ model whose
 * groups lowered to integer kernels, so Q and DQ no longer pair up) in one typed loop, with the
 * references' float32 steps; the references allocate float64 copies per op. Other cases take them.
 */
const EIGHT_BIT = new Set(['uint8', 'int8']);

function eightBitPerTensor(x: MaybeTensor, scale: MaybeTensor, zp: MaybeTensor): number | undefined {
  if (!x || !scale || scale.type !== 'float32' || scale.size !== 1 || (zp && (zp.size !== 1 || !EIGHT_BIT.has(zp.type)))) return undefined;
  return zp ? Number((zp.data as Int8Array | Uint8Array)[0]) : 0;
}

function quantizeFast(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor | undefined {
  const [x, scale, zp] = inputs;
  const z = eightBitPerTensor(x, scale, zp);
  if (z === undefined || x!.type !== 'float32') return undefined;
  const p = planQuantize([metaOf(x!), metaOf(scale!), zp && metaOf(zp)], ctx);
  if (p.layout.kind !== 'tensor' || p.precision !== 'float32' || !EIGHT_BIT.has(p.out.dtype)) return undefined;
  const [lo, hi] = p.range;
  const s = (scale!.data as Float32Array)[0]!;
  const xv = x!.data as Float32Array;
  const out = p.out.dtype === 'int8' ? new Int8Array(xv.length) : new Uint8Array(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = quantizeValue(Math.fround(xv[i]! / s), z, lo, hi);
  return p.out.dtype === 'int8' ? new Tensor('int8', out as Int8Array, x!.dims) : new Tensor('uint8', out as Uint8Array, x!.dims);
}

function dequantizeFast(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor | undefined {
  const [x, scale, zp] = inputs;
  const z = eightBitPerTensor(x, scale, zp);
  if (z === undefined || !EIGHT_BIT.has(x!.type)) return undefined;
  const p = planDequantize([metaOf(x!), metaOf(scale!), zp && metaOf(zp)], ctx);
  if (p.layout.kind !== 'tensor' || p.precision !== 'float32' || p.out.dtype !== 'float32') return undefined;
  const s = (scale!.data as Float32Array)[0]!;
  const xv = x!.data as Int8Array | Uint8Array;
  const out = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = (xv[i]! - z) * s;
  return new Tensor('float32', out, x!.dims);
}

const quantizeLinear: CpuKernel = (inputs, ctx) => {
  const fast = quantizeFast(inputs, ctx);
  return fast ? [fast] : quantizeReference(inputs, ctx);
};

const dequantizeLinear: CpuKernel = (inputs, ctx) => {
  const fast = dequantizeFast(inputs, ctx);
  return fast ? [fast] : dequantizeReference(inputs, ctx);
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'QuantizeLinear')]: quantizeLinear, [opKey('', 'DequantizeLinear')]: dequantizeLinear };
