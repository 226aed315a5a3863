import { product } from '../common/shape.ts';
import type { ImplementationTable, KernelContext, MaybeMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { contribRotaryPlan, onnxRotaryPlan, type RotaryPlan } from './op.ts';

/**
 * One invocation per output value: it finds its (b, s, n, h), its pair partner and the cache row.
 * WGSL cannot throw: a position outside the caches (INVALID_ARGUMENT on the CPU) passes the input
 * through, as onnxruntime's WebGPU kernel does.
 */
const rotary = (opType: string, planOf: (inputs: readonly MaybeMeta[], ctx: KernelContext) => RotaryPlan): WebGpuKernel => (inputs, outputs, ctx) => {
  const p = planOf(inputs, ctx);
  const n = product(p.out.dims);
  if (n === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const C = b.input('COS', inputs[p.cosSlot]!, p.cosSlot);
  const S = b.input('SIN', inputs[p.sinSlot]!, p.sinSlot);
  const P = p.positionSlot !== undefined ? b.input('POS', inputs[p.positionSlot]!, p.positionSlot) : undefined;
  const Y = b.output('Y', outputs[0]!);
  const u = (name: string, v: number): string => b.uniform(name, 'u32', v);
  // the head index does not matter: every head of a token turns by the same angle
  const [total, seq, headSize, rot, sB, sS, rows, width] = [
    u('n', n), u('seq', p.seq), u('head_size', p.headSize), u('rotary_dim', p.rotaryDim),
    u('stride_b', p.strideB), u('stride_s', p.strideS), u('cache_rows', p.cacheRows), u('cache_width', p.cacheWidth),
  ];
  const rowExpr = { offset: `i32(${P?.get('0u')}) + i32(s)`, ids: `i32(${P?.get(`bi * ${seq} + s`)})`, direct: `i32(bi * ${seq} + s)` }[p.rowKind];
  const pair = p.interleaved
    ? ['  let c = h / 2u;', '  let first = h % 2u == 0u;', '  let partner = select(f - 1u, f + 1u, first);']
    : [`  let half = ${rot} / 2u;`, '  let c = h % half;', '  let first = h < half;', '  let partner = select(f - half, f + half, first);'];
  const body = [
    '  let f = global_idx;',
    `  if (f >= ${total}) { return; }`,
    `  let h = f % ${headSize};`,
    `  if (h >= ${rot}) { ${Y.set('f', X.get('f'))} return; }`,
    `  let s = (f / ${sS}) % ${seq};`,
    `  let bi = f / ${sB};`,
    `  let raw = ${rowExpr};`,
    `  if (raw < 0 || raw >= i32(${rows})) { ${Y.set('f', X.get('f'))} return; }`,
    '  let row = u32(raw);',
    ...pair,
    `  let cs = ${C.get(`row * ${width} + c`)};`,
    `  let sn = ${S.get(`row * ${width} + c`)};`,
    `  let other = ${X.get('partner')};`,
    `  ${Y.set('f', `${X.get('f')} * cs + select(other, -other, first) * sn`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: n })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('com.microsoft', 'RotaryEmbedding')]: rotary('RotaryEmbedding', contribRotaryPlan),
  [opKey('', 'RotaryEmbedding')]: rotary('RotaryEmbedding', onnxRotaryPlan),
};
