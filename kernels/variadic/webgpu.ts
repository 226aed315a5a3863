import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { VARIADIC_SPECS, type VariadicSpec } from './op.ts';

// A storage buffer per input plus the output must fit the default per-stage limit of 8 bindings.
const MAX_GPU_INPUTS = 7;

function lowering(spec: VariadicSpec): WebGpuKernel {
  return (inputs, outputs, ctx) => {
    if (inputs.length > MAX_GPU_INPUTS) return undefined;
    const out = outputs[0]!;
    const b = new ShaderBuilder(ctx.caps);
    const vars = inputs.map((m, i) => b.input(`X${i}`, m!, i));
    const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
    const n = b.uniform('n', 'u32', Y.size);
    const same = (m: TensorMeta): boolean => m.dims.length === out.dims.length && m.dims.every((d, i) => d === out.dims[i]);
    const at = (i: number): string => vars[i]!.get(same(inputs[i]!) ? 'global_idx' : vars[i]!.broadcastedOffset(Y, 'idx'));
    const lines = [`  if (global_idx >= ${n}) { return; }`];
    if (!inputs.every((m) => same(m!))) lines.push(`  let idx = ${Y.offsetToIndices('global_idx')};`);
    lines.push(`  var acc = ${at(0)};`);
    for (let i = 1; i < inputs.length; i++) lines.push(`  { let v = ${at(i)}; acc = ${spec.wgsl}; }`);
    if (spec.mean) lines.push(`  acc = acc / ${inputs.length}.0;`);
    lines.push(`  ${Y.set('global_idx', 'acc')}`);
    return { kind: 'programs', programs: [b.build({ label: `${spec.opType}:${ctx.node}`, body: lines.join('\n'), totalInvocations: Y.size })] };
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = Object.fromEntries(VARIADIC_SPECS.map((s) => [opKey('', s.opType), lowering(s)]));
