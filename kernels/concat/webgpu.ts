import { product } from '../common/shape.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { inferConcat } from './op.ts';

// Storage buffers per shader stage are 8 by default (WebGPU's minimum): 7 inputs and the output.
const MAX_INPUTS_PER_PROGRAM = 7;

/**
 * Copies a group of inputs into their slab of the output. Everything is seen as [outer, axis,
 * inner]: an invocation takes one element of the group's slab and finds its input by the axis
 * coordinate against the inputs' cumulative axis starts.
 */
function concatProgram(ctx: GpuKernelContext, label: string, group: { slot: number; meta: TensorMeta; start: number }[], out: TensorMeta, axis: number): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const outer = product(out.dims, 0, axis);
  const inner = product(out.dims, axis + 1);
  const groupStart = group[0]!.start;
  const groupAxis = group.reduce((s, g) => s + g.meta.dims[axis]!, 0);
  const vars = group.map((g, i) => b.input(`X${i}`, g.meta, g.slot));
  const Y = b.output('Y', out);
  const total = outer * groupAxis * inner;
  const n = b.uniform('n', 'u32', total);
  const inn = b.uniform('inner', 'u32', inner);
  const ga = b.uniform('group_axis', 'u32', groupAxis);
  const oa = b.uniform('out_axis', 'u32', out.dims[axis]!);
  const gs = b.uniform('group_start', 'u32', groupStart);
  const starts = b.uniformArray('starts', 'u32', group.map((g) => g.start - groupStart));
  const lens = b.uniformArray('lens', 'u32', group.map((g) => g.meta.dims[axis]!));
  const lines = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inn};`,
    `  let a = (global_idx / ${inn}) % ${ga};`,
    `  let o = global_idx / (${inn} * ${ga});`,
    `  let dst = (o * ${oa} + ${gs} + a) * ${inn} + i;`,
  ];
  vars.forEach((X, k) => {
    const cond = k === vars.length - 1 ? '' : `if (a < ${starts}(${k}u) + ${lens}(${k}u)) `;
    lines.push(`  ${cond}{ ${Y.set('dst', X.get(`(o * ${lens}(${k}u) + a - ${starts}(${k}u)) * ${inn} + i`))} return; }`);
  });
  return b.build({ label, body: lines.join('\n'), totalInvocations: total });
}

const concat: WebGpuKernel = (inputs, outputs, ctx) => {
  const out = outputs[0]!;
  const axis = inferConcat(inputs, ctx).axis;
  const parts: { slot: number; meta: TensorMeta; start: number }[] = [];
  let start = 0;
  inputs.forEach((m, slot) => {
    if (!m) return;
    if (product(m.dims) > 0) parts.push({ slot, meta: m, start });
    start += m.dims[axis]!;
  });
  const programs: GpuProgram[] = [];
  for (let i = 0; i < parts.length; i += MAX_INPUTS_PER_PROGRAM) {
    programs.push(concatProgram(ctx, `Concat:${ctx.node}`, parts.slice(i, i + MAX_INPUTS_PER_PROGRAM), out, axis));
  }
  return { kind: 'programs', programs };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Concat')]: concat };
