import type { AnyTensor } from '../../core/tensor.ts';
import { activationOf } from '../common/activation.ts';
import { epilogueOf, withEpilogue } from '../fused-elementwise/epilogue.ts';
import { fromNumbers, metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { matmulCpu, numericData, type CpuMatmulOperand } from '../js/gemm.ts';
import { inferMatMul, problemOf, type Strides } from './op.ts';

/** MatMul on the CPU: B packed into panels, a register-blocked loop (kernels/js/gemm.ts). */
const matmul: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const [a, b, bias] = [inputs[0]!, inputs[1]!, inputs[2]];
  const [out] = inferMatMul(inputs.map((t) => t && metaOf(t)), ctx);
  const p = problemOf(metaOf(a), metaOf(b), bias && metaOf(bias), ctx);
  const op = (t: AnyTensor, s: Strides): CpuMatmulOperand => ({ data: numericData(t), ...s });
  const y = matmulCpu({
    M: p.M,
    N: p.N,
    K: p.K,
    batchDims: p.batchDims,
    a: op(a, p.a),
    b: op(b, p.b),
    c: bias && { data: numericData(bias), batchStrides: p.batchDims.map(() => 0), rowStride: 0, colStride: p.biasColStride! },
    activation: activationOf(ctx.attrs),
  });
  return [fromNumbers(out!.dtype, out!.dims, withEpilogue(epilogueOf(ctx.attrs, ctx.node), y, p.outDims, inputs))];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'MatMul')]: matmul };
