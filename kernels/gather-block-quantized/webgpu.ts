import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { gbqPlan } from './op.ts';

/**
 * One invocation per output value; data stays as stored (packed constants unpack through
 * TensorVar.get). WGSL cannot throw: an index out of range (an error on the CPU) writes 0s here.
 */
const gatherBlockQuantized: WebGpuKernel = (inputs, outputs, ctx) => {
  const p = gbqPlan(inputs, ctx);
  const n = product(p.out.dims);
  if (n === 0) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const D = b.input('D', inputs[0]!, 0);
  const I = b.input('I', inputs[1]!, 1);
  const S = b.input('S', inputs[2]!, 2);
  const Z = inputs[3] ? b.input('Z', inputs[3], 3) : undefined;
  const Y = b.output('Y', outputs[0]!);
  const u = (name: string, v: number): string => b.uniform(name, 'u32', v);
  const [total, gBlock, gDim, gN, qN, qFull, blockSize, sFull] = [
    u('n', n), u('gather_block', p.gatherBlock), u('gather_dim', p.gatherAxisDim), u('gather_n', p.gatherN),
    u('quantize_n', p.quantizeN), u('quantize_full', p.quantizeAxisDim * p.quantizeN), u('block_size', p.blockSize), u('scale_full', p.scaleFull),
  ];
  const per = p.components;
  // zero points of uint8 data: each row of scales packs into ceil(scale_full / per) bytes
  const zpRow = b.uniform('zp_row', 'u32', Math.ceil(p.scaleFull / per) * per);
  const mask = (1 << p.bits) - 1;
  const sub = (T: typeof D, i: string): string => `i32((u32(${T.get(`(${i}) / ${per}u`)}) >> (((${i}) % ${per}u) * ${p.bits}u)) & ${mask}u)`;
  const value = p.packedUint8 && p.bits < 8 ? sub(D, 'd') : `i32(${D.get('d')})`;
  let zp = '0';
  if (p.packedUint8) {
    if (!Z) zp = `${1 << (p.bits - 1)}`;
    else if (p.bits === 8) zp = `i32(${Z.get('s')})`;
    else zp = sub(Z, `(s / ${sFull}) * ${zpRow} + s % ${sFull}`);
  } else if (Z) zp = `i32(${Z.get('s')})`;
  const body = [
    `  if (global_idx >= ${total}) { return; }`,
    `  let blk = global_idx / ${gBlock};`,
    `  var idx = i32(${I.get(`blk % ${gN}`)});`,
    `  let dim = i32(${gDim});`,
    `  if (idx < -dim || idx >= dim) { ${Y.set('global_idx', '0.0')} return; }`,
    '  if (idx < 0) { idx += dim; }',
    `  let d = ((blk / ${gN}) * ${gDim} + u32(idx)) * ${gBlock} + global_idx % ${gBlock};`,
    `  let s = (d / ${qFull}) * ${sFull} + ((d % ${qFull}) / ${qN}) / ${blockSize} * ${qN} + d % ${qN};`,
    `  ${Y.set('global_idx', `f32(${value} - ${zp}) * ${S.get('s')}`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `GatherBlockQuantized:${ctx.node}`, body, totalInvocations: n })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('com.microsoft', 'GatherBlockQuantized')]: gatherBlockQuantized };
