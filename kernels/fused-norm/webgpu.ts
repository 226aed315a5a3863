import { product } from '../common/shape.ts';
import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { FUSED_NORM_PLANS, gammaIsSuffix, type FusedNormPlan } from './op.ts';

/**
 * One invocation per row (the form software adapters want; rows of a transformer are a few hundred
 * values): pass 1 sums x + skip + bias (writing the sum output when asked), pass 2 the squared
 * deviations, pass 3 writes y. Statistics in f32, as onnxruntime keeps them for f16 models too.
 */
function fusedNormGpu(opType: string, inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], plan: FusedNormPlan, ctx: GpuKernelContext): GpuLowering | undefined {
  const { rows, len } = plan;
  if (rows === 0 || len === 0 || !gammaIsSuffix(plan)) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const skip = plan.skip ? b.input('SKIP', inputs[plan.skip.slot]!, plan.skip.slot) : undefined;
  const skipSize = plan.skip ? b.uniform('skip_size', 'u32', plan.skip.size) : '';
  const bias = plan.bias !== undefined ? b.input('BIAS', inputs[plan.bias]!, plan.bias) : undefined;
  const G = b.input('G', inputs[plan.gamma.slot]!, plan.gamma.slot);
  const gSize = b.uniform('g_size', 'u32', product(plan.gamma.dims));
  const beta = plan.beta !== undefined ? b.input('BETA', inputs[plan.beta]!, plan.beta) : undefined;
  const Y = b.output('Y', outputs[0]!, 0);
  const present = (i: number | undefined): i is number => i !== undefined && outputs[i] !== undefined && product(outputs[i]!.dims) > 0;
  const sumOut = present(plan.sumOut) ? b.output('SUM', outputs[plan.sumOut]!, plan.sumOut) : undefined;
  const meanOut = present(plan.meanOut) ? b.output('MEAN', outputs[plan.meanOut]!, plan.meanOut) : undefined;
  const invOut = present(plan.invOut) ? b.output('INV', outputs[plan.invOut]!, plan.invOut) : undefined;
  const nRows = b.uniform('n_rows', 'u32', rows);
  const L = b.uniform('len', 'u32', len);
  const eps = b.uniform('eps', 'f32', plan.epsilon);
  const terms = [X.get('f'), skip ? skip.get(`f % ${skipSize}`) : '', bias ? bias.get('j') : ''].filter(Boolean).join(' + ');
  b.helper('row_value', `fn row_value(f: u32, j: u32) -> f32 { return ${terms}; }`);
  const center = plan.simplified ? '' : ' - mean';
  const body = [
    '  let row = global_idx;',
    `  if (row >= ${nRows}) { return; }`,
    `  let base = row * ${L};`,
    '  var s = 0.0;',
    `  for (var j = 0u; j < ${L}; j++) { let v = row_value(base + j, j); s += v;${sumOut ? ` ${sumOut.set('base + j', 'v')}` : ''} }`,
    `  let mean = s / f32(${L});`,
    '  var q = 0.0;',
    `  for (var j = 0u; j < ${L}; j++) { let d = row_value(base + j, j)${center}; q += d * d; }`,
    `  let inv = 1.0 / sqrt(q / f32(${L}) + ${eps});`,
    `  for (var j = 0u; j < ${L}; j++) { ${Y.set('base + j', `(row_value(base + j, j)${center}) * inv * ${G.get(`j % ${gSize}`)}${beta ? ` + ${beta.get('j')}` : ''}`)} }`,
    meanOut ? `  ${meanOut.set('row', 'mean')}` : '',
    invOut ? `  ${invOut.set('row', 'inv')}` : '',
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: rows })] };
}

const kernel = (opType: string): WebGpuKernel => (inputs, outputs, ctx) => fusedNormGpu(opType, inputs, outputs, FUSED_NORM_PLANS[opType]!(inputs, ctx), ctx);

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('com.microsoft', 'SkipLayerNormalization')]: kernel('SkipLayerNormalization'),
  [opKey('com.microsoft', 'SkipSimplifiedLayerNormalization')]: kernel('SkipSimplifiedLayerNormalization'),
  [opKey('', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('com.microsoft', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('', 'RMSNormalization')]: kernel('RMSNormalization'),
};
