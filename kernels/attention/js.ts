import type { AnyTensor } from '../../core/tensor.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable, KernelContext, MaybeTensor } from '../contract.ts';
import { opKey } from '../contract.ts';
import { attentionPlan, attentionProblem } from './attention-op.ts';
import { attendFast, bnshToBsd } from './core.ts';
import { gqaPlan, gqaProblem } from './group-query-op.ts';
import { finishOutputs, mhaPlan, mhaProblem } from './multi-head-op.ts';
import { onnxAttention as onnxAttentionDefinition, onnxAttentionPlan, onnxAttentionProblem, outputLayout } from './onnx-attention-op.ts';

// ---------------------------------------------------------------------------------------------
// CPU fast path: the same input forms as the references, gathered into float32, then one pass per
// query row with an online softmax (core.ts attendFast): no S x T matrix, no float64.
// ---------------------------------------------------------------------------------------------

const f32 = (n: number): Float32Array => new Float32Array(n);
const metas = (inputs: readonly MaybeTensor[]) => inputs.map((t) => t && metaOf(t));

const multiHead: CpuKernel = (inputs, ctx: KernelContext): AnyTensor[] => {
  const p = mhaPlan(metas(inputs), ctx);
  const { problem, presentK, presentV } = mhaProblem(inputs, p, f32, true);
  const out = bnshToBsd(attendFast(problem), p.B, p.N, p.S, p.Hv);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, [out, presentK, presentV], ctx.outputCount);
};

const attention: CpuKernel = (inputs, ctx) => {
  const p = attentionPlan(metas(inputs), ctx);
  const { problem, present } = attentionProblem(inputs, p, f32, true);
  const out = bnshToBsd(attendFast(problem), p.B, p.N, p.S, p.Hv);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, present ? [out, present] : [out], p.outputs.length);
};

const groupQuery: CpuKernel = (inputs, ctx) => {
  const p = gqaPlan(metas(inputs), ctx);
  const { problem, presentK, presentV } = gqaProblem(inputs, p, f32, ctx);
  const out = bnshToBsd(attendFast(problem), p.B, p.N, p.S, p.H);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, [out, presentK, presentV], ctx.outputCount);
};

const onnxAttention: CpuKernel = (inputs, ctx) => {
  const p = onnxAttentionPlan(metas(inputs), ctx);
  // qk_matmul_output is an S x T matrix by definition: the reference computes it
  if (p.outputs.length > 3) return onnxAttentionDefinition.reference(inputs, ctx);
  const { problem, presentK, presentV } = onnxAttentionProblem(inputs, p, f32);
  return finishOutputs(p.outputs[0]!.dtype, p.outputs, [outputLayout(attendFast(problem), p), presentK, presentV], p.outputs.length);
};

export const js: ImplementationTable<CpuKernel> = {
  [opKey('', 'Attention')]: onnxAttention,
  [opKey('com.microsoft', 'MultiHeadAttention')]: multiHead,
  [opKey('com.microsoft', 'Attention')]: attention,
  [opKey('com.microsoft', 'GroupQueryAttention')]: groupQuery,
};
