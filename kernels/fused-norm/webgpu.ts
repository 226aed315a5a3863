import { product } from '../common/shape.ts';
import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { rowWorkgroupSize, workgroupReduce } from '../webgpu/wg-reduce.ts';
import { FUSED_NORM_PLANS, gammaIsSuffix, type FusedNormPlan } from './op.ts';

/** Rows at least this long get a workgroup each on hardware GPUs (as LayerNormalization's kernel). */
const WORKGROUP_ROW_MIN = 64;

/**
 * Pass 1 sums x + skip + bias (writing the sum output when asked), pass 2 the squared deviations,
 * pass 3 writes y; statistics in f32, as onnxruntime keeps them for f16 models too. One invocation
 * per row on software adapters (a workgroup's barriers cost a fiber switch per invocation there),
 * one workgroup per long row on hardware GPUs.
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
  const wgMode = len >= WORKGROUP_ROW_MIN && !ctx.caps.software;
  const wg = wgMode ? rowWorkgroupSize(len, ctx.caps) : 64;
  const sum = wgMode ? workgroupReduce(b, 'sum', 'f32', wg) : '';
  const loop = wgMode ? `for (var j = local_idx; j < ${L}; j += ${wg}u)` : `for (var j = 0u; j < ${L}; j++)`;
  const total = (v: string): string => (wgMode ? `${sum}(local_idx, ${v})` : v);
  const stats = [meanOut ? meanOut.set('row', 'mean') : '', invOut ? invOut.set('row', 'inv') : ''].filter(Boolean).join(' ');
  const body = [
    wgMode ? '  let row = workgroup_idx;' : '  let row = global_idx;',
    `  if (row >= ${nRows}) { return; }`,
    `  let base = row * ${L};`,
    '  var s = 0.0;',
    `  ${loop} { let v = row_value(base + j, j); s += v;${sumOut ? ` ${sumOut.set('base + j', 'v')}` : ''} }`,
    `  let mean = ${total('s')} / f32(${L});`,
    '  var q = 0.0;',
    `  ${loop} { let d = row_value(base + j, j)${center}; q += d * d; }`,
    `  let inv = 1.0 / sqrt(${total('q')} / f32(${L}) + ${eps});`,
    `  ${loop} { ${Y.set('base + j', `(row_value(base + j, j)${center}) * inv * ${G.get(`j % ${gSize}`)}${beta ? ` + ${beta.get('j')}` : ''}`)} }`,
    stats ? `  if (${wgMode ? 'local_idx == 0u' : 'true'}) { ${stats} }` : '',
  ].join('\n');
  const program = wgMode ? b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: rows * wg, workgroupSize: wg }) : b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: rows });
  return { kind: 'programs', programs: [program] };
}

const kernel = (opType: string): WebGpuKernel => (inputs, outputs, ctx) => fusedNormGpu(opType, inputs, outputs, FUSED_NORM_PLANS[opType]!(inputs, ctx), ctx);

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('com.microsoft', 'SkipLayerNormalization')]: kernel('SkipLayerNormalization'),
  [opKey('com.microsoft', 'SkipSimplifiedLayerNormalization')]: kernel('SkipSimplifiedLayerNormalization'),
  [opKey('', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('com.microsoft', 'SimplifiedLayerNormalization')]: kernel('SimplifiedLayerNormalization'),
  [opKey('', 'RMSNormalization')]: kernel('RMSNormalization'),
};
