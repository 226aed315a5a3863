import type { AnyTensor } from '../../core/tensor.ts';
import { activationOf } from '../common/activation.ts';
import { epilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { matmulCpu, numericData } from '../js/gemm.ts';
import { inferGemm, layoutOf } from './op.ts';

/** Gemm on the CPU: B packed into panels, a register-blocked loop (kernels/js/gemm.ts). */
const gemm: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const [a, b, c] = [inputs[0]!, inputs[1]!, inputs[2]];
  const [out] = inferGemm(inputs.map((t) => t && metaOf(t)), ctx);
  const l = layoutOf(metaOf(a), metaOf(b), c && metaOf(c), ctx);
  const y = matmulCpu({
    M: l.M,
    N: l.N,
    K: l.K,
    batchDims: [],
    a: { data: numericData(a), batchStrides: [], ...l.a },
    b: { data: numericData(b), batchStrides: [], ...l.b },
    c: c && { data: numericData(c), batchStrides: [], ...l.c! },
    alpha: l.alpha,
    beta: l.beta,
    activation: activationOf(ctx.attrs),
  });
  return [fromNumbers(out!.dtype, out!.dims, withEpilogue(epilogueOf(ctx.attrs, ctx.node), y, [l.M, l.N], inputs))];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Gemm')]: gemm };
