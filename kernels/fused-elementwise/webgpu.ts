import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { POW_HELPER } from '../elementwise-binary/binary-math.ts';
import { CLIP_MATH, wgslNanPassThrough, wgslUnaryExpr } from '../elementwise-unary/unary-math.ts';
import { inferFused } from './op.ts';
import { MAX_FUSED_INPUTS, type Ref, type Step } from './program.ts';


const refExpr = (r: Ref): string => (r.kind === 'i' ? `in${r.index}` : r.kind === 's' ? `s${r.index}` : `k(${r.index}u)`);

/** One step as WGSL statements assigning `s<n>`; each op's expression comes from its table (NaN rules included). */
function stepWgsl(b: ShaderBuilder, step: Step, n: number): string {
  const [a0, a1, a2] = step.args.map(refExpr);
  let expr: string;
  switch (step.kind) {
    case 'unary':
      expr = wgslUnaryExpr(b, step.unary!, 'f32', (i) => refExpr(step.args[1 + i]!), step.mode, 'float32');
      return `  var s${n}: f32;\n  { let x = ${a0}; s${n} = ${expr}; }`;
    case 'binary':
      if (step.op === 'Pow') b.helper('kiln_pow', POW_HELPER);
      return `  var s${n}: f32;\n  { let a = ${a0}; let b = ${a1}; s${n} = ${step.binary!.wgsl('f32', '')}; }`;
    case 'clip':
      expr = wgslNanPassThrough(b, CLIP_MATH.wgsl('x', a1!, a2!));
      return `  var s${n}: f32;\n  { let x = ${a0}; s${n} = ${expr}; }`;
    case 'where': return `  let s${n} = select(${a2}, ${a1}, ${a0} != 0u);`;
    case 'cast': return `  let s${n} = ${a0};`;
  }
}

/**
 * One shader for the whole program: each input loaded once per output element (through its
 * broadcast index map unless it has the output's shape), the steps in order, one store. The WGSL
 * depends on the program's structure, ranks and which inputs broadcast; constants are uniforms,
 * so every recurring chain of a model (PaddleOCR's Mul-Add-HardSwish-Mul-Add) shares one pipeline.
 */
const fused: WebGpuKernel = (inputs, outputs, ctx) => {
  if (inputs.length > MAX_FUSED_INPUTS) return undefined;
  const { program } = inferFused(inputs, ctx);
  const out = outputs[0]!;
  const b = new ShaderBuilder(ctx.caps);
  const vars = inputs.map((m, i) => b.input(`I${i}`, m!, i));
  const Y = b.output('Y', { dtype: 'float32', dims: out.dims.length ? out.dims : [1] });
  const n = b.uniform('n', 'u32', Y.size);
  if (program.constants.length > 0) b.uniformArray('k', 'f32', program.constants);
  const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
  const broadcasts = inputs.map((m) => !same(m!));
  const lines = [`  if (global_idx >= ${n}) { return; }`];
  if (broadcasts.some(Boolean)) lines.push(`  let idx = ${Y.offsetToIndices('global_idx')};`);
  vars.forEach((v, i) => {
    const load = v.get(broadcasts[i] ? v.broadcastedOffset(Y, 'idx') : 'global_idx');
    lines.push(`  let in${i} = ${program.roles[i] === 'cast' ? `f32(${load})` : load};`);
  });
  program.steps.forEach((s, i) => lines.push(stepWgsl(b, s, i)));
  lines.push(`  ${Y.set('global_idx', `s${program.steps.length - 1}`)}`);
  const label = `FusedElementwise(${program.steps.map((s) => s.op).join(',')}):${ctx.node}`;
  return { kind: 'programs', programs: [b.build({ label, body: lines.join('\n'), totalInvocations: Y.size })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'FusedElementwise')]: fused };
