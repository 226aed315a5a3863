import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { rowWorkgroupSize, workgroupReduce } from '../webgpu/wg-reduce.ts';
import { embedPlan } from './op.ts';

/** Hidden sizes at least this long get a workgroup per token on hardware GPUs. */
const WORKGROUP_ROW_MIN = 64;

/**
 * One invocation per token on software adapters, one workgroup per token of a long row on hardware
 * GPUs: gather the three embedding rows, two-pass LayerNorm in f32; the token at s = 0 of each
 * batch also counts its mask. WGSL cannot throw, so an id out of range is clamped into the table
 * here (the CPU reference rejects it).
 */
const embedLayerNorm: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = embedPlan(inputs, ctx);
  const tokens = p.batch * p.seq;
  if (tokens === 0 || p.hidden === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const ids = b.input('IDS', inputs[0]!, 0);
  const segIds = inputs[1] ? b.input('SEG_IDS', inputs[1], 1) : undefined;
  const word = b.input('WORD', inputs[2]!, 2);
  const position = b.input('POS', inputs[3]!, 3);
  const segment = inputs[4] ? b.input('SEG', inputs[4], 4) : undefined;
  const gamma = b.input('GAMMA', inputs[5]!, 5);
  const beta = inputs[6] ? b.input('BETA', inputs[6], 6) : undefined;
  const mask = inputs[7] ? b.input('MASK', inputs[7], 7) : undefined;
  const posIds = inputs[8] ? b.input('POS_IDS', inputs[8], 8) : undefined;
  const Y = b.output('Y', outputs[0]!, 0);
  const present = (i: number): boolean => outputs[i] !== undefined && product(outputs[i]!.dims) > 0;
  const maskOut = present(1) ? b.output('MASK_INDEX', outputs[1]!, 1) : undefined;
  const sumOut = present(2) ? b.output('SUM', outputs[2]!, 2) : undefined;
  const nTokens = b.uniform('n_tokens', 'u32', tokens);
  const S = b.uniform('seq', 'u32', p.seq);
  const H = b.uniform('hidden', 'u32', p.hidden);
  const rows = b.uniformArray('table_rows', 'u32', [p.rows.word, p.rows.position, Math.max(p.rows.segment, 1)]);
  const eps = b.uniform('eps', 'f32', p.epsilon);
  const clampRow = (expr: string, k: number): string => `u32(clamp(i32(${expr}), 0, i32(${rows}(${k}u)) - 1))`;
  const posExpr = posIds ? posIds.get(p.positionIds === 'per-batch' ? 't' : 's') : 's';
  b.helper(
    'embed_value',
    `fn embed_value(w: u32, p: u32, g: u32, j: u32) -> f32 { return ${word.get(`w * ${H} + j`)} + ${position.get(`p * ${H} + j`)}${segment ? ` + ${segment.get(`g * ${H} + j`)}` : ''}; }`,
  );
  const wgMode = p.hidden >= WORKGROUP_ROW_MIN && !ctx.caps.software;
  const wg = wgMode ? rowWorkgroupSize(p.hidden, ctx.caps) : 64;
  const sum = wgMode ? workgroupReduce(b, 'sum', 'f32', wg) : '';
  const loop = wgMode ? `for (var j = local_idx; j < ${H}; j += ${wg}u)` : `for (var j = 0u; j < ${H}; j++)`;
  const total = (v: string): string => (wgMode ? `${sum}(local_idx, ${v})` : v);
  const body = [
    wgMode ? '  let t = workgroup_idx;' : '  let t = global_idx;',
    `  if (t >= ${nTokens}) { return; }`,
    `  let s = t % ${S};`,
    `  let w = ${clampRow(ids.get('t'), 0)};`,
    `  let p = ${clampRow(posExpr, 1)};`,
    `  let g = ${segIds ? clampRow(segIds.get('t'), 2) : '0u'};`,
    `  let base = t * ${H};`,
    '  var partial = 0.0;',
    `  ${loop} { let v = embed_value(w, p, g, j); partial += v;${sumOut ? ` ${sumOut.set('base + j', 'v')}` : ''} }`,
    `  let mean = ${total('partial')} / f32(${H});`,
    '  var q = 0.0;',
    `  ${loop} { let d = embed_value(w, p, g, j) - mean; q += d * d; }`,
    `  let inv = 1.0 / sqrt(${total('q')} / f32(${H}) + ${eps});`,
    `  ${loop} { ${Y.set('base + j', `(embed_value(w, p, g, j) - mean) * inv * ${gamma.get('j')}${beta ? ` + ${beta.get('j')}` : ''}`)} }`,
    maskOut
      ? `  if (s == 0u${wgMode ? ' && local_idx == 0u' : ''}) { var n = 0; ${mask ? `for (var k = 0u; k < ${S}; k++) { if (${mask.get('t + k')} == 1) { n++; } }` : ''} ${maskOut.set(`t / ${S}`, 'n')} }`
      : '',
  ].join('\n');
  const program = wgMode
    ? b.build({ label: `EmbedLayerNormalization:${ctx.node}`, body, totalInvocations: tokens * wg, workgroupSize: wg })
    : b.build({ label: `EmbedLayerNormalization:${ctx.node}`, body, totalInvocations: tokens });
  return { kind: 'programs', programs: [program] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('com.microsoft', 'EmbedLayerNormalization')]: embedLayerNorm };
