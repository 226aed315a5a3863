import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeTensor } from '../contract.ts';
import { opKey } from '../contract.ts';
import { unaryEpilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';
import { dequantizeNBits, IA, IB, IBIAS, IG, IS, IZ, nbitsPlan, type NBitsPlan } from './op.ts';

// ---------------------------------------------------------------------------------------------
// CPU: dequantize B once into a float32 [N, K] matrix (cached per weight: constants keep their
// tensor objects across runs), then row-by-row dot products.
// ---------------------------------------------------------------------------------------------

interface Dequantized {
  readonly parts: readonly (AnyTensor | undefined)[];
  readonly w: Float32Array;
}
const cache = new WeakMap<AnyTensor, Dequantized>();

function dequantizeB(inputs: readonly MaybeTensor[], p: NBitsPlan, ctx: KernelContext): Float32Array {
  const key = inputs[IB]!;
  const parts = [inputs[IS], inputs[IZ], inputs[IG]];
  const hit = cache.get(key);
  if (hit && hit.parts.every((t, i) => t === parts[i]) && hit.w.length === p.N * p.K) return hit.w;
  const w = dequantizeNBits(inputs, p, ctx);
  cache.set(key, { parts, w });
  return w;
}

const matmulNBits: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const p = nbitsPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const w = dequantizeB(inputs, p, ctx);
  const at = inputs[IA]!;
  const a = at.type === 'float32' ? (at.data as Float32Array) : toNumbers(at);
  const bias = inputs[IBIAS] && toNumbers(inputs[IBIAS]);
  const { M, N, K } = p;
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const ao = m * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += a[ao + k]! * w[wo + k]!;
        s1 += a[ao + k + 1]! * w[wo + k + 1]!;
        s2 += a[ao + k + 2]! * w[wo + k + 2]!;
        s3 += a[ao + k + 3]! * w[wo + k + 3]!;
      }
      for (; k < K; k++) s0 += a[ao + k]! * w[wo + k]!;
      y[m * N + n] = s0 + s1 + s2 + s3 + (bias ? bias[n]! : 0);
    }
  }
  // a fake quantization the WebGPU fusion pass folded in (when a step of it falls back here)
  withEpilogue(unaryEpilogueOf(ctx.attrs, ctx.node), y);
  return [p.out.dtype === 'float32' ? new Tensor('float32', Float32Array.from(y), p.out.dims) : fromNumbers(p.out.dtype, p.out.dims, y)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('com.microsoft', 'MatMulNBits')]: matmulNBits };
