import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { TensorVar } from '../webgpu/shader-builder.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { linearAttentionPlan } from './op.ts';

/**
 * One invocation per state column (batch, KV head, j): column j of a head's d_k x d_v state is
 * read and written only by v[j] and the j-th output values of the head's query group, so columns
 * run their recurrence over t independently, with no barrier. The state lives in present_state's
 * buffer (float32 storage, float16 included) or, when the node has no present_state, in a temp; each
 * invocation starts its column from past_state or zeros. The update rule is baked into the WGSL
 * (it changes the code); shapes, scale and the decay/beta layouts are uniforms.
 */
const linearAttention: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = linearAttentionPlan(inputs, ctx);
  const columns = p.batch * p.kvHeads * p.dv;
  if (columns === 0 || p.seq === 0) return undefined; // empty tensors cannot be bound; the CPU handles them
  const b = new ShaderBuilder(ctx.caps);
  const Q = b.input('Q', inputs[0]!, 0);
  const K = b.input('K', inputs[1]!, 1);
  const V = b.input('V', inputs[2]!, 2);
  const P = p.hasPast ? b.input('PAST', inputs[3]!, 3) : undefined;
  const D = p.gated ? b.input('DECAY', inputs[4]!, 4) : undefined;
  const Bt = p.delta ? b.input('BETA', inputs[5]!, 5) : undefined;
  const Y = b.output('Y', outputs[0]!, 0);
  const state: TensorVar = outputs[1] ? b.output('STATE', outputs[1], 1) : b.temp('STATE', { dtype: 'float32', dims: p.present.dims }, 0);
  const u = (name: string, v: number): string => b.uniform(name, 'u32', v);
  const [n, seq, hkv, dk, dv, group] = [u('columns', columns), u('seq', p.seq), u('kv_heads', p.kvHeads), u('dk', p.dk), u('dv', p.dv), u('group', p.qHeads / p.kvHeads)];
  const scale = b.uniform('scale', 'f32', p.scale);
  // decay per state row (step 1) or per head (step 0); beta per head (step 1) or shared (step 0)
  const decayWidth = u('decay_width', p.decayWidth);
  const decayStep = u('decay_step', p.decayWidth === 1 ? 0 : 1);
  const betaHeads = u('beta_heads', p.betaHeads);
  const betaStep = u('beta_step', p.betaHeads === 1 ? 0 : 1);
  const at = (i: string): string => `base + (${i}) * ${dv}`;
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = global_idx % ${dv};`,
    `  let bh = global_idx / ${dv};`, // b * H_kv + h
    `  let h = bh % ${hkv};`,
    `  let bi = bh / ${hkv};`,
    `  let base = bh * ${dk} * ${dv} + j;`,
    `  for (var i = 0u; i < ${dk}; i++) { ${state.set(at('i'), P ? P.get(at('i')) : '0.0')} }`,
    `  for (var t = 0u; t < ${seq}; t++) {`,
    `    let bt = bi * ${seq} + t;`,
    `    let kb = (bt * ${hkv} + h) * ${dk};`,
    ...(D ? [
      `    let db = (bt * ${hkv} + h) * ${decayWidth};`,
      `    for (var i = 0u; i < ${dk}; i++) { ${state.set(at('i'), `${state.get(at('i'))} * exp(${D.get(`db + i * ${decayStep}`)})`)} }`,
    ] : []),
    `    var w = ${V.get(`(bt * ${hkv} + h) * ${dv} + j`)};`,
    ...(Bt ? [
      '    var retrieved = 0.0;',
      `    for (var i = 0u; i < ${dk}; i++) { retrieved += ${state.get(at('i'))} * ${K.get('kb + i')}; }`,
      `    w = ${Bt.get(`bt * ${betaHeads} + h * ${betaStep}`)} * (w - retrieved);`,
    ] : []),
    `    for (var i = 0u; i < ${dk}; i++) { ${state.set(at('i'), `${state.get(at('i'))} + ${K.get('kb + i')} * w`)} }`,
    `    for (var g = 0u; g < ${group}; g++) {`,
    `      let qh = h * ${group} + g;`,
    `      let qb = (bt * ${hkv} * ${group} + qh) * ${dk};`,
    '      var acc = 0.0;',
    `      for (var i = 0u; i < ${dk}; i++) { acc += ${Q.get('qb + i')} * ${state.get(at('i'))}; }`,
    `      ${Y.set(`(bt * ${hkv} * ${group} + qh) * ${dv} + j`, `${scale} * acc`)}`,
    '    }',
    '  }',
  ].join('\n');
  const program = b.build({ label: `LinearAttention:${ctx.node}`, body, totalInvocations: columns });
  return { kind: 'programs', programs: [program], ...(outputs[1] ? {} : { temps: [{ dtype: 'float32', dims: p.present.dims }] }) };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'LinearAttention')]: linearAttention };
