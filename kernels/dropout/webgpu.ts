import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { dropoutMetas } from './op.ts';

/** The output is a view of the input; a requested mask is filled with true by one program that also copies. */
const dropout: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  dropoutMetas(inputs, ctx);
  if (outputs.length < 2) return { kind: 'view', input: 0 };
  const total = product(outputs[0]!.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!, 0);
  const M = b.output('M', outputs[1]!, 1);
  const n = b.uniform('n', 'u32', total);
  const body = [`  if (global_idx >= ${n}) { return; }`, `  ${Y.set('global_idx', X.get('global_idx'))}`, `  ${M.set('global_idx', '1u')}`].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `Dropout:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Dropout')]: dropout };
