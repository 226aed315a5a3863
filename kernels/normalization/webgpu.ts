import { product, sameDims } from '../common/shape.ts';
import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { rowWorkgroupSize, workgroupReduce } from '../webgpu/wg-reduce.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { batchNormSetup, groupNormPlan, instanceNormPlan, layerNormSetup, lpSetup, type ParamIndex, type RowNorm } from './op.ts';

/**
 * Rows shorter than this get one invocation each; longer rows get a workgroup. Software adapters
 * always take one invocation per row: a workgroup runs on one CPU thread there and its barriers
 * cost a fiber switch per invocation (see kernels/reduce.ts).
 */
const WORKGROUP_ROW_MIN = 64;

function rowNormGpu(label: string, inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], plan: RowNorm, ctx: GpuKernelContext): GpuLowering | undefined {
  const { rows, len } = plan;
  if (rows === 0 || len === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const param = (name: string, p: ParamIndex | undefined): string => {
    if (!p) return '0.0';
    const T = b.input(name, inputs[p.slot]!, p.slot);
    const inner = b.uniform(`${name}_inner`, 'u32', p.inner);
    const mod = b.uniform(`${name}_mod`, 'u32', p.mod);
    return T.get(`(f / ${inner}) % ${mod}`);
  };
  const s = plan.scale ? param('S', plan.scale) : '1.0';
  const bias = param('B', plan.bias);
  const Y = b.output('Y', outputs[0]!, 0);
  // optional statistics outputs (LayerNorm Mean / InvStdDev); absent ones have no buffer
  const stat = (i: number, name: string): string | undefined => {
    const m = outputs[i];
    return m && product(m.dims) > 0 ? b.output(name, m, i).set('row', i === 1 ? 'mean' : 'inv') : undefined;
  };
  const stats = [stat(1, 'M'), stat(2, 'I')].filter((x): x is string => x !== undefined);
  const nRows = b.uniform('n_rows', 'u32', rows);
  const L = b.uniform('len', 'u32', len);
  const eps = b.uniform('eps', 'f32', plan.epsilon);
  const write = `{ let f = base + j; ${Y.set('f', `((${X.get('f')} - x0) - shifted_mean) * inv * ${s} + ${bias}`)} }`;
  const wgMode = len >= WORKGROUP_ROW_MIN && !ctx.caps.software;
  const wg = wgMode ? rowWorkgroupSize(len, ctx.caps) : 64;
  const sum = wgMode ? workgroupReduce(b, 'sum', 'f32', wg) : '';
  const loop = wgMode ? `for (var j = local_idx; j < ${L}; j += ${wg}u)` : `for (var j = 0u; j < ${L}; j++)`;
  const total = (v: string): string => (wgMode ? `${sum}(local_idx, ${v})` : v);
  const body = [
    wgMode ? '  let row = workgroup_idx;' : '  let row = global_idx;',
    `  if (row >= ${nRows}) { return; }`,
    `  let base = row * ${L};`,
    // Everything relative to x0, the row's first value: for rows offset far from 0 (values near
    // 100 that vary by 1) x - x0 is exact (Sterbenz) where x - mean and a sum of x are not.
    `  let x0 = ${X.get('base')};`,
    '  var s = 0.0;',
    `  ${loop} { s += ${X.get('base + j')} - x0; }`,
    `  let shifted_mean = ${total('s')} / f32(${L});`,
    '  let mean = x0 + shifted_mean;',
    '  var q = 0.0;',
    `  ${loop} { let d = (${X.get('base + j')} - x0) - shifted_mean; q += d * d; }`,
    `  let inv = 1.0 / sqrt(${total('q')} / f32(${L}) + ${eps});`,
    `  ${loop} ${write}`,
    stats.length ? `  if (${wgMode ? 'local_idx == 0u' : 'true'}) { ${stats.join(' ')} }` : '',
  ].join('\n');
  const program = wgMode ? b.build({ label, body, totalInvocations: rows * wg, workgroupSize: wg }) : b.build({ label, body, totalInvocations: rows });
  return { kind: 'programs', programs: [program] };
}

/** On the GPU a param is indexed by j % size: right only when its non-1 dims are a suffix of the normalized shape. */
function suffixParam(m: TensorMeta | undefined, norm: readonly number[]): boolean {
  if (!m) return true;
  const dims = [...m.dims];
  while (dims.length && dims[0] === 1) dims.shift();
  return sameDims(dims, norm.slice(norm.length - dims.length));
}

const layerNorm: WebGpuKernel = (inputs, outputs, ctx) => {
  const { x, axis, plan } = layerNormSetup(inputs, ctx);
  const norm = x.dims.slice(axis);
  if (!suffixParam(inputs[1], norm) || !suffixParam(inputs[2], norm)) return undefined;
  return rowNormGpu(`LayerNormalization:${ctx.node}`, inputs, outputs, plan, ctx);
};

const batchNorm: WebGpuKernel = (inputs, outputs, ctx) => {
  const s = batchNormSetup(inputs, ctx);
  if (s.training || product(s.x.dims) === 0) return undefined; // training statistics run on the CPU
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', s.x, 0);
  const [S, B, M, V] = ['S', 'B', 'M', 'V'].map((n, i) => b.input(n, inputs[i + 1]!, i + 1));
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', product(s.x.dims));
  const inner = b.uniform('param_inner', 'u32', s.inner);
  const mod = b.uniform('param_mod', 'u32', s.mod);
  const eps = b.uniform('eps', 'f32', ctx.attrs.float('epsilon', 1e-5));
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let k = (global_idx / ${inner}) % ${mod};`,
    `  ${Y.set('global_idx', `(${X.get('global_idx')} - ${M!.get('k')}) / sqrt(${V!.get('k')} + ${eps}) * ${S!.get('k')} + ${B!.get('k')}`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `BatchNormalization:${ctx.node}`, body, totalInvocations: product(s.x.dims) })] };
};

const lpNorm: WebGpuKernel = (inputs, outputs, ctx) => {
  const { x, p, len, inner, rows } = lpSetup(inputs, ctx);
  if (rows === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', x, 0);
  const Y = b.output('Y', outputs[0]!);
  const nRows = b.uniform('n_rows', 'u32', rows);
  const L = b.uniform('len', 'u32', len);
  const inn = b.uniform('inner', 'u32', inner);
  const at = (j: string): string => `base + ${j} * ${inn}`;
  const body = [
    `  if (global_idx >= ${nRows}) { return; }`,
    `  let base = (global_idx / ${inn}) * ${L} * ${inn} + global_idx % ${inn};`,
    '  var acc = 0.0;',
    `  for (var j = 0u; j < ${L}; j++) { let v = ${X.get(at('j'))}; acc += ${p === 1 ? 'abs(v)' : 'v * v'}; }`,
    `  let norm = ${p === 1 ? 'acc' : 'sqrt(acc)'};`,
    `  for (var j = 0u; j < ${L}; j++) { ${Y.set(at('j'), `select(${X.get(at('j'))} / norm, 0.0, norm == 0.0)`)} }`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `LpNormalization:${ctx.node}`, body, totalInvocations: rows })] };
};

const channelNorm = (opType: string, planOf: (inputs: readonly MaybeMeta[], ctx: GpuKernelContext) => RowNorm): WebGpuKernel => (inputs, outputs, ctx) =>
  rowNormGpu(`${opType}:${ctx.node}`, inputs, outputs, planOf(inputs, ctx), ctx);

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'BatchNormalization')]: batchNorm,
  [opKey('', 'LayerNormalization')]: layerNorm,
  [opKey('', 'InstanceNormalization')]: channelNorm('InstanceNormalization', instanceNormPlan),
  [opKey('', 'GroupNormalization')]: channelNorm('GroupNormalization', groupNormPlan),
  [opKey('', 'LpNormalization')]: lpNorm,
};
