import type { ImplementationTable, MaybeMeta, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { TensorVar } from '../webgpu/shader-builder.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { linearAttentionPlan, type LinearAttentionPlan, type UpdateRule } from './op.ts';

/** Positions per chunk of the chunked (prefill) form; baked into its WGSL. */
export const LINEAR_ATTENTION_CHUNK = 32;

/**
 * Which form a node gets. Prompts of at least `chunkedFrom` positions run the chunked form on GPUs;
 * decode (T = 1) runs the sequential one. On software adapters (SwiftShader: a workgroup is one CPU
 * thread, and the state columns already fill the cores) the chunked form does about the sequential
 * form's arithmetic plus 3-5 dispatches, and pays only where it saves the sequential form's d_k x d_v
 * exps per step: the gated rules (bench/node/linear-attention-bench.ts, docs/decisions.md); the rules
 * in `software` run chunked there. Mutable so the bench can time each form; the runtime never changes it.
 */
export const linearAttentionForms: { chunkedFrom: number; software: readonly UpdateRule[] } = { chunkedFrom: 2, software: ['gated', 'gated_delta'] };

/**
 * Sequential form: one invocation per state column (batch, KV head, j): column j of a head's d_k x d_v
 * state is read and written only by v[j] and the j-th output values of the head's query group, so
 * columns run their recurrence over t independently, with no barrier. The state lives in
 * present_state's buffer (float32 storage, float16 included) or, when the node has no present_state,
 * in a temp; each invocation starts its column from past_state or zeros. The update rule is baked
 * into the WGSL (it changes the code); shapes, scale and the decay/beta layouts are uniforms.
 */
function sequential(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext, p: LinearAttentionPlan): GpuProgram {
  const columns = p.batch * p.kvHeads * p.dv;
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
  return b.build({ label: `LinearAttention:${ctx.node}`, body, totalInvocations: columns });
}

/**
 * Chunked form (prefill): T splits into chunks of C positions. With b_t the log-decay summed from the
 * chunk start through t (per key row; 0 for the ungated rules), S_0 the state before the chunk and
 * w_t what step t writes (v_t, or beta_t (v_t - S'^T k_t) for the delta rules), the state after step
 * r of the chunk is
 *   S_r = diag(e^{b_r}) S_0 + sum_{s <= r} diag(e^{b_r - b_s}) k_s w_s^T,
 * so o_r = scale (S_0^T (e^{b_r} q_r) + sum_{s <= r} A_rs w_s) with A_rs = sum_i q_ri k_si e^{b_ri - b_si}.
 * For the delta rules the writes solve (I + diag(beta) M) w = diag(beta) (V - K~ S_0) with M the
 * strictly lower k.k scores (decayed like A) and K~_s = e^{b_s} k_s: w = U - W S_0 where
 * U = T beta V and W = T beta K~, T = (I + diag(beta) M)^-1 (the UT transform of gated delta net /
 * flash-linear-attention), found by forward substitution per column. Decay differences are taken
 * pairwise (e^{b_r - b_s}, never e^{b_r} e^{-b_s}), so strong decays cannot overflow.
 * Programs, each parallel over what it names:
 *   decay  (gated; batch, head, chunk, key row): b, e^{b} q, e^{b} k and e^{b_last - b} k
 *   scores (batch, head, chunk, r, s): A for every query head of the group, and beta M (delta rules)
 *   solve  (delta rules; batch, head, chunk, column of [K~ | V]): W and U by forward substitution
 *   state  (batch, head, j): the only walk over chunks: keeps S_c, writes w = U - W S_c (delta rules),
 *          S_{c+1} = diag(e^{b_last}) S_c + sum_s (e^{b_last - b_s} k_s) w_s^T
 *   output (batch, t, query head, j): o from S_c and the chunk's scores
 */
function chunked(inputs: readonly MaybeMeta[], outputs: readonly TensorMeta[], ctx: GpuKernelContext, p: LinearAttentionPlan): { programs: GpuProgram[]; temps: TensorMeta[] } {
  const C = LINEAR_ATTENTION_CHUNK;
  const chunks = Math.ceil(p.seq / C);
  const { batch: B, seq: T, qHeads: Hq, kvHeads: Hkv, dk: Dk, dv: Dv } = p;
  const temps: TensorMeta[] = [];
  const scratch = (...dims: number[]): { meta: TensorMeta; index: number } => {
    const meta: TensorMeta = { dtype: 'float32', dims };
    temps.push(meta);
    return { meta, index: temps.length - 1 };
  };
  const stateTemp = outputs[1] ? undefined : scratch(...p.present.dims);
  const tG = p.gated ? scratch(B, T, Hkv, p.decayWidth) : undefined;
  const tQD = p.gated ? scratch(B, T, Hq, Dk) : undefined;
  const tKD = p.gated ? scratch(B, T, Hkv, Dk) : undefined;
  const tKT = p.gated && p.delta ? scratch(B, T, Hkv, Dk) : undefined;
  const tA = scratch(B, Hq, chunks, C, C);
  const tL = p.delta ? scratch(B, Hkv, chunks, C, C) : undefined;
  const tW = p.delta ? scratch(B, T, Hkv, Dk) : undefined;
  const tU = p.delta ? scratch(B, T, Hkv, Dv) : undefined;
  const tVN = p.delta ? scratch(B, T, Hkv, Dv) : undefined;
  const tH = scratch(B, Hkv, chunks, Dk, Dv);

  // Each program binds what it reads; `ref` returns the input when the rule needs no scratch form of it.
  const start = () => {
    const b = new ShaderBuilder(ctx.caps);
    const u = (name: string, v: number): string => b.uniform(name, 'u32', v);
    const dims = {
      seq: u('seq', T), hkv: u('kv_heads', Hkv), hq: u('q_heads', Hq), dk: u('dk', Dk), dv: u('dv', Dv), group: u('group', Hq / Hkv), nc: u('chunks', chunks),
      dw: u('decay_width', p.decayWidth), dstep: u('decay_step', p.decayWidth === 1 ? 0 : 1), bh: u('beta_heads', p.betaHeads), bstep: u('beta_step', p.betaHeads === 1 ? 0 : 1),
    };
    const tmp = (name: string, t: { meta: TensorMeta; index: number }): TensorVar => b.temp(name, t.meta, t.index);
    return { b, u, dims, tmp };
  };
  const label = (part: string): string => `LinearAttention:${ctx.node}:${part}`;
  const programs: GpuProgram[] = [];
  const head = (n: string, names: readonly [string, string][]): string[] => {
    // peels global_idx into named indices, innermost first: [[name, extent], ...]
    const lines = [`  if (global_idx >= ${n}) { return; }`, '  var rest = global_idx;'];
    for (const [name, extent] of names) lines.push(`  let ${name} = rest % ${extent};`, `  rest = rest / ${extent};`);
    lines.push('  let bi = rest;');
    return lines;
  };

  if (p.gated) {
    const { b, u, dims: d, tmp } = start();
    const [Q, K, D] = [b.input('Q', inputs[0]!, 0), b.input('K', inputs[1]!, 1), b.input('DECAY', inputs[4]!, 4)];
    const [G, QD, KD] = [tmp('G', tG!), tmp('QD', tQD!), tmp('KD', tKD!)];
    const KT = tKT ? tmp('KT', tKT) : undefined;
    const n = B * Hkv * chunks * Dk;
    const body = [
      ...head(u('count', n), [['i', d.dk], ['c', d.nc], ['h', d.hkv]]),
      `  let t0 = c * ${C}u;`,
      `  let t1 = min(${d.seq}, t0 + ${C}u);`,
      '  var acc = 0.0;',
      '  for (var t = t0; t < t1; t++) {',
      `    let bt = bi * ${d.seq} + t;`,
      `    let kb = (bt * ${d.hkv} + h) * ${d.dk} + i;`,
      `    acc += ${D.get(`(bt * ${d.hkv} + h) * ${d.dw} + i * ${d.dstep}`)};`,
      `    if (i < ${d.dw}) { ${G.set(`(bt * ${d.hkv} + h) * ${d.dw} + i`, 'acc')} }`,
      '    let e = exp(acc);',
      ...(KT ? [`    ${KT.set('kb', `${K.get('kb')} * e`)}`] : []),
      `    for (var g = 0u; g < ${d.group}; g++) {`,
      `      let qb = (bt * ${d.hq} + h * ${d.group} + g) * ${d.dk} + i;`,
      `      ${QD.set('qb', `${Q.get('qb')} * e`)}`,
      '    }',
      '  }',
      '  let last = acc;',
      '  acc = 0.0;',
      '  for (var t = t0; t < t1; t++) {',
      `    let bt = bi * ${d.seq} + t;`,
      `    let kb = (bt * ${d.hkv} + h) * ${d.dk} + i;`,
      `    acc += ${D.get(`(bt * ${d.hkv} + h) * ${d.dw} + i * ${d.dstep}`)};`,
      `    ${KD.set('kb', `${K.get('kb')} * exp(last - acc)`)}`,
      '  }',
    ].join('\n');
    programs.push(b.build({ label: label('decay'), body, totalInvocations: n }));
  }

  {
    const { b, u, dims: d, tmp } = start();
    const [Q, K] = [b.input('Q', inputs[0]!, 0), b.input('K', inputs[1]!, 1)];
    const Bt = p.delta ? b.input('BETA', inputs[5]!, 5) : undefined;
    const G = tG ? tmp('G', tG) : undefined;
    const [A, L] = [tmp('A', tA), tL ? tmp('L', tL) : undefined];
    const n = B * Hkv * chunks * C * C;
    // A_rs = sum_i q_ri k_si e^{b_ri - b_si} for each query head of the group; the first one's pass
    // also sums k_ri k_si e^{b_ri - b_si} into L (delta rules), sharing the exps. Per-head decay
    // takes one exp outside the sums.
    const lTerm = (e: string): string => (L ? ` if (first) { l += ${K.get('kr + i')} * ${K.get('ks + i')}${e}; }` : '');
    const sums = G ? [
      `      if (${d.dw} == 1u) {`,
      `        for (var i = 0u; i < ${d.dk}; i++) { a += ${Q.get('qb + i')} * ${K.get('ks + i')};${lTerm('')} }`,
      `        let e = exp(${G.get(`btr * ${d.hkv} + h`)} - ${G.get(`bts * ${d.hkv} + h`)});`,
      '        a *= e;',
      ...(L ? ['        if (first) { l *= e; }'] : []),
      '      } else {',
      `        for (var i = 0u; i < ${d.dk}; i++) {`,
      `          let e = exp(${G.get(`(btr * ${d.hkv} + h) * ${d.dk} + i`)} - ${G.get(`(bts * ${d.hkv} + h) * ${d.dk} + i`)});`,
      `          a += ${Q.get('qb + i')} * ${K.get('ks + i')} * e;${lTerm(' * e')}`,
      '        }',
      '      }',
    ] : [`      for (var i = 0u; i < ${d.dk}; i++) { a += ${Q.get('qb + i')} * ${K.get('ks + i')};${lTerm('')} }`];
    const body = [
      ...head(u('count', n), [['s', `${C}u`], ['r', `${C}u`], ['c', d.nc], ['h', d.hkv]]),
      `  let tr = c * ${C}u + r;`,
      `  let valid = tr < ${d.seq} && s <= r;`,
      `  let btr = bi * ${d.seq} + tr;`,
      `  let bts = bi * ${d.seq} + c * ${C}u + s;`,
      `  let ks = (bts * ${d.hkv} + h) * ${d.dk};`,
      `  let kr = (btr * ${d.hkv} + h) * ${d.dk};`,
      '  var l = 0.0;',
      `  for (var g = 0u; g < ${d.group}; g++) {`,
      `    let qh = h * ${d.group} + g;`,
      `    let qb = (btr * ${d.hq} + qh) * ${d.dk};`,
      '    let first = g == 0u && s < r;',
      '    var a = 0.0;',
      '    if (valid) {',
      ...sums,
      '    }',
      `    ${A.set(`(((bi * ${d.hq} + qh) * ${d.nc} + c) * ${C}u + r) * ${C}u + s`, 'a')}`,
      '  }',
      ...(L && Bt ? [
        `  if (valid && s < r) { l *= ${Bt.get(`btr * ${d.bh} + h * ${d.bstep}`)}; }`,
        `  ${L.set(`(((bi * ${d.hkv} + h) * ${d.nc} + c) * ${C}u + r) * ${C}u + s`, 'l')}`,
      ] : []),
    ].join('\n');
    programs.push(b.build({ label: label('scores'), body, totalInvocations: n }));
  }

  if (p.delta) {
    const { b, u, dims: d, tmp } = start();
    const K = tKT ? tmp('KT', tKT) : b.input('K', inputs[1]!, 1);
    const V = b.input('V', inputs[2]!, 2);
    const Bt = b.input('BETA', inputs[5]!, 5);
    const [L, W, U] = [tmp('L', tL!), tmp('W', tW!), tmp('U', tU!)];
    const n = B * Hkv * chunks * (Dk + Dv);
    // x_r = beta_r rhs_r - sum_{u<r} L_ru x_u, x written to `out` as it goes and read back
    const solve = (out: TensorVar, rhs: TensorVar, width: string, col: string): string[] => [
      '    for (var r = 0u; r < len; r++) {',
      `      let bt = bi * ${d.seq} + t0 + r;`,
      `      var x = ${Bt.get(`bt * ${d.bh} + h * ${d.bstep}`)} * ${rhs.get(`(bt * ${d.hkv} + h) * ${width} + ${col}`)};`,
      `      let lb = (((bi * ${d.hkv} + h) * ${d.nc} + c) * ${C}u + r) * ${C}u;`,
      '      for (var s = 0u; s < r; s++) {',
      `        x -= ${L.get('lb + s')} * ${out.get(`((bi * ${d.seq} + t0 + s) * ${d.hkv} + h) * ${width} + ${col}`)};`,
      '      }',
      `      ${out.set(`(bt * ${d.hkv} + h) * ${width} + ${col}`, 'x')}`,
      '    }',
    ];
    const body = [
      ...head(u('count', n), [['col', `(${d.dk} + ${d.dv})`], ['c', d.nc], ['h', d.hkv]]),
      `  let t0 = c * ${C}u;`,
      `  let len = min(${d.seq}, t0 + ${C}u) - t0;`,
      `  if (col < ${d.dk}) {`,
      ...solve(W, K, d.dk, 'col'),
      '  } else {',
      `    let j = col - ${d.dk};`,
      ...solve(U, V, d.dv, 'j'),
      '  }',
    ].join('\n');
    programs.push(b.build({ label: label('solve'), body, totalInvocations: n }));
  }

  {
    const { b, u, dims: d, tmp } = start();
    const K = tKD ? tmp('KD', tKD) : b.input('K', inputs[1]!, 1);
    const V = tVN ? tmp('VN', tVN) : b.input('V', inputs[2]!, 2);
    const P = p.hasPast ? b.input('PAST', inputs[3]!, 3) : undefined;
    const G = tG ? tmp('G', tG) : undefined;
    const [W, U] = [tW ? tmp('W', tW) : undefined, tU ? tmp('U', tU) : undefined];
    const H = tmp('H', tH);
    const state: TensorVar = outputs[1] ? b.output('STATE', outputs[1], 1) : tmp('STATE', stateTemp!);
    const parts = { K, V, P, G, W, U, H, state };
    programs.push(ctx.caps.software ? stateByColumn(b, u, d, parts, B * Hkv * Dv, label('state')) : stateByWorkgroup(b, u, d, parts, B * Hkv, Dv, label('state')));
  }


  {
    const { b, u, dims: d, tmp } = start();
    const Q = tQD ? tmp('QD', tQD) : b.input('Q', inputs[0]!, 0);
    const V = tVN ? tmp('VN', tVN) : b.input('V', inputs[2]!, 2);
    const [A, H] = [tmp('A', tA), tmp('H', tH)];
    const Y = b.output('Y', outputs[0]!, 0);
    const scale = b.uniform('scale', 'f32', p.scale);
    const n = B * T * Hq * Dv;
    const body = [
      ...head(u('count', n), [['j', d.dv], ['qh', d.hq], ['t', d.seq]]),
      `  let h = qh / ${d.group};`,
      `  let c = t / ${C}u;`,
      `  let r = t % ${C}u;`,
      `  let t0 = c * ${C}u;`,
      `  let bt = bi * ${d.seq} + t;`,
      `  let qb = (bt * ${d.hq} + qh) * ${d.dk};`,
      `  let hb = ((bi * ${d.hkv} + h) * ${d.nc} + c) * ${d.dk} * ${d.dv} + j;`,
      '  var acc = 0.0;',
      `  for (var i = 0u; i < ${d.dk}; i++) { acc += ${Q.get('qb + i')} * ${H.get(`hb + i * ${d.dv}`)}; }`,
      `  let ab = (((bi * ${d.hq} + qh) * ${d.nc} + c) * ${C}u + r) * ${C}u;`,
      '  for (var s = 0u; s <= r; s++) {',
      `    acc += ${A.get('ab + s')} * ${V.get(`((bi * ${d.seq} + t0 + s) * ${d.hkv} + h) * ${d.dv} + j`)};`,
      '  }',
      `  ${Y.set(`bt * ${d.hq} * ${d.dv} + qh * ${d.dv} + j`, `${scale} * acc`)}`,
    ].join('\n');
    programs.push(b.build({ label: label('output'), body, totalInvocations: n }));
  }
  return { programs, temps };
}

type Uniform = (name: string, v: number) => string;
interface ChunkDims { seq: string; hkv: string; hq: string; dk: string; dv: string; group: string; nc: string; dw: string; dstep: string; bh: string; bstep: string }
interface StateParts { K: TensorVar; V: TensorVar; P?: TensorVar; G?: TensorVar; W?: TensorVar; U?: TensorVar; H: TensorVar; state: TensorVar }

/**
 * The walk over chunks, one invocation per state column (software adapters: a workgroup runs on one
 * CPU thread, so columns are all the parallelism there is and barriers only cost).
 */
function stateByColumn(b: ShaderBuilder, u: Uniform, d: ChunkDims, { K, V, P, G, W, U, H, state }: StateParts, n: number, label: string): GpuProgram {
  const C = LINEAR_ATTENTION_CHUNK;
  const at = (i: string): string => `base + (${i}) * ${d.dv}`;
  const body = [
    `  if (global_idx >= ${u('count', n)}) { return; }`,
    `  let j = global_idx % ${d.dv};`,
    `  let bh = global_idx / ${d.dv};`,
    `  let h = bh % ${d.hkv};`,
    `  let bi = bh / ${d.hkv};`,
    `  let base = bh * ${d.dk} * ${d.dv} + j;`,
    `  for (var i = 0u; i < ${d.dk}; i++) { ${state.set(at('i'), P ? P.get(at('i')) : '0.0')} }`,
    `  for (var c = 0u; c < ${d.nc}; c++) {`,
    `    let t0 = c * ${C}u;`,
    `    let t1 = min(${d.seq}, t0 + ${C}u);`,
    `    let hb = (bh * ${d.nc} + c) * ${d.dk} * ${d.dv} + j;`,
    `    for (var i = 0u; i < ${d.dk}; i++) { ${H.set(`hb + i * ${d.dv}`, state.get(at('i')))} }`,
    // this chunk's writes for column j, in private memory: read dk times each by the update below
    `    var w: array<f32, ${C}>;`,
    '    for (var t = t0; t < t1; t++) {',
    `      let bt = bi * ${d.seq} + t;`,
    `      w[t - t0] = ${(U ?? V).get(`(bt * ${d.hkv} + h) * ${d.dv} + j`)};`,
    '    }',
    ...(W ? [
      // w = U - W S_c, one state row at a time so S_c is read once per row
      `    for (var i = 0u; i < ${d.dk}; i++) {`,
      `      let sij = ${state.get(at('i'))};`,
      `      for (var t = t0; t < t1; t++) { w[t - t0] -= ${W.get(`((bi * ${d.seq} + t) * ${d.hkv} + h) * ${d.dk} + i`)} * sij; }`,
      '    }',
      '    for (var t = t0; t < t1; t++) {',
      `      ${V.set(`((bi * ${d.seq} + t) * ${d.hkv} + h) * ${d.dv} + j`, 'w[t - t0]')}`,
      '    }',
    ] : []),
    ...(G ? [`    let db = ((bi * ${d.seq} + t1 - 1u) * ${d.hkv} + h) * ${d.dw};`] : []),
    `    for (var i = 0u; i < ${d.dk}; i++) {`,
    '      var acc = 0.0;',
    '      for (var t = t0; t < t1; t++) {',
    `        acc += ${K.get(`((bi * ${d.seq} + t) * ${d.hkv} + h) * ${d.dk} + i`)} * w[t - t0];`,
    '      }',
    `      ${state.set(at('i'), G ? `${state.get(at('i'))} * exp(${G.get(`db + i * ${d.dstep}`)}) + acc` : `${state.get(at('i'))} + acc`)}`,
    '    }',
    '  }',
  ].join('\n');
  return b.build({ label, body, totalInvocations: n });
}

/** Columns per workgroup of the cooperative walk, and its workgroup size. */
const BLOCK_COLUMNS = 16;
const STATE_WORKGROUP = 256;

/**
 * The walk over chunks for GPUs: one workgroup per (batch, KV head, block of 16 state columns); per
 * chunk its invocations share out the (position, column) pairs of w = U - W S_c, then the (row,
 * column) pairs of the state update, with a storage barrier between, so the serial depth per chunk
 * is about (d_k + C) * 16 * d_k / 256 products instead of 2 C d_k.
 */
function stateByWorkgroup(b: ShaderBuilder, u: Uniform, d: ChunkDims, { K, V, P, G, W, U, H, state }: StateParts, heads: number, dv: number, label: string): GpuProgram {
  const C = LINEAR_ATTENTION_CHUNK;
  const JB = BLOCK_COLUMNS;
  const blocks = Math.ceil(dv / JB);
  const groups = heads * blocks;
  const nb = u('blocks', blocks);
  const at = (i: string, j: string): string => `(bh * ${d.dk} + ${i}) * ${d.dv} + ${j}`;
  // a loop over `count` pairs shared by the workgroup; `i` the outer index, `j` the column
  const pairs = (count: string, i: string, body: readonly string[]): string[] => [
    `    for (var e = local_idx; e < ${count}; e += ${STATE_WORKGROUP}u) {`,
    `      let ${i} = e / ${JB}u;`,
    `      let j = j0 + e % ${JB}u;`,
    `      if (j < ${d.dv}) {`,
    ...body.map((l) => `        ${l}`),
    '      }',
    '    }',
  ];
  const body = [
    `  if (workgroup_idx >= ${u('groups', groups)}) { return; }`,
    `  let j0 = (workgroup_idx % ${nb}) * ${JB}u;`,
    `  let bh = workgroup_idx / ${nb};`,
    `  let h = bh % ${d.hkv};`,
    `  let bi = bh / ${d.hkv};`,
    ...pairs(`${d.dk} * ${JB}u`, 'i', [state.set(at('i', 'j'), P ? P.get(at('i', 'j')) : '0.0')]).map((l) => l.slice(2)),
    '  storageBarrier();',
    `  for (var c = 0u; c < ${d.nc}; c++) {`,
    `    let t0 = c * ${C}u;`,
    `    let t1 = min(${d.seq}, t0 + ${C}u);`,
    `    let hb = (bh * ${d.nc} + c) * ${d.dk} * ${d.dv};`,
    ...pairs(`${d.dk} * ${JB}u`, 'i', [H.set(`hb + i * ${d.dv} + j`, state.get(at('i', 'j')))]),
    ...(W && U ? pairs(`(t1 - t0) * ${JB}u`, 'tt', [
      `let bt = bi * ${d.seq} + t0 + tt;`,
      `var w = ${U.get(`(bt * ${d.hkv} + h) * ${d.dv} + j`)};`,
      `let wb = (bt * ${d.hkv} + h) * ${d.dk};`,
      `for (var i = 0u; i < ${d.dk}; i++) { w -= ${W.get('wb + i')} * ${state.get(at('i', 'j'))}; }`,
      V.set(`(bt * ${d.hkv} + h) * ${d.dv} + j`, 'w'),
    ]) : []),
    '    storageBarrier();',
    ...pairs(`${d.dk} * ${JB}u`, 'i', [
      'var acc = 0.0;',
      'for (var t = t0; t < t1; t++) {',
      `  let bt = bi * ${d.seq} + t;`,
      `  acc += ${K.get(`(bt * ${d.hkv} + h) * ${d.dk} + i`)} * ${V.get(`(bt * ${d.hkv} + h) * ${d.dv} + j`)};`,
      '}',
      state.set(at('i', 'j'), G ? `${state.get(at('i', 'j'))} * exp(${G.get(`((bi * ${d.seq} + t1 - 1u) * ${d.hkv} + h) * ${d.dw} + i * ${d.dstep}`)}) + acc` : `${state.get(at('i', 'j'))} + acc`),
    ]),
    '    storageBarrier();',
    '  }',
  ].join('\n');
  return b.build({ label, body, totalInvocations: groups * STATE_WORKGROUP, workgroupSize: STATE_WORKGROUP });
}

const linearAttention: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = linearAttentionPlan(inputs, ctx);
  if (p.batch * p.kvHeads * p.dv === 0 || p.seq === 0) return undefined; // empty tensors cannot be bound; the CPU handles them
  const forms = linearAttentionForms;
  if (p.seq >= forms.chunkedFrom && (!ctx.caps.software || forms.software.includes(p.rule))) {
    const form = chunked(inputs, outputs, ctx, p);
    // the chunk-start states grow with T (B H_kv T/C d_k d_v floats): past the binding limit, the sequential form
    const fits = form.temps.every((t) => 4 * t.dims.reduce((a, b) => a * b, 1) <= ctx.caps.maxStorageBufferBindingSize);
    if (fits) return { kind: 'programs', ...form };
  }
  return { kind: 'programs', programs: [sequential(inputs, outputs, ctx, p)], ...(outputs[1] ? {} : { temps: [{ dtype: 'float32', dims: p.present.dims }] }) };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'LinearAttention')]: linearAttention };
