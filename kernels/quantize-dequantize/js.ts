import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { quantizeValue } from '../common/quant.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeTensor } from '../contract.ts';
import { opKey } from '../contract.ts';
import { onnxContext, planQdq, qdqReference } from './op.ts';

/**
 * The common case (float32 x and scale, one scale and zero point: every activation pair of a QDQ
 * model) in one loop with the same float32 steps as the two references: q = clamp(rint(x / s) + zp),
 * y = (q - zp) * s. The general composition allocates float64 copies per op (~10x slower).
 */
function perTensorFloat32(inputs: readonly MaybeTensor[], ctx: KernelContext): AnyTensor | undefined {
  const [x, scale, zp] = inputs;
  if (!x || !scale || x.type !== 'float32' || scale.type !== 'float32' || scale.size !== 1 || (zp && zp.size !== 1) || ctx.attrs.int('precision', 0) !== 0) return undefined;
  const p = planQdq([metaOf(x), metaOf(scale), zp && metaOf(zp)], ctx);
  if (p.layout.kind !== 'tensor') return undefined;
  const [lo, hi] = p.range;
  const s = (scale.data as Float32Array)[0]!;
  const z = zp ? Number((zp.data as Int8Array | Uint8Array)[0]) : 0;
  const xv = x.data as Float32Array;
  const y = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const q = quantizeValue(Math.fround(xv[i]! / s), z, lo, hi);
    y[i] = (q - z) * s;
  }
  return new Tensor('float32', y, x.dims);
}

/** Other layouts and types take the composition of the references. */
const quantizeDequantize: CpuKernel = (inputs, ctx) => {
  const fast = perTensorFloat32(inputs, onnxContext(ctx));
  return fast ? [fast] : qdqReference(inputs, ctx);
};

export const js: ImplementationTable<CpuKernel> = { [opKey('kiln', 'QuantizeDequantize')]: quantizeDequantize };
