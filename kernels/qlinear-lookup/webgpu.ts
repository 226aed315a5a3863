import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { lookupBase, planLookup } from './op.ts';

const sizeOf = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const gpuDims = (d: readonly number[]): readonly number[] => (d.length ? d : [1]);

/** A gather: one table read per element (8-bit tensors are one word per element on the GPU). */
const qlinearLookup: WebGpuKernel = (inputs, outputs, ctx) => {
  planLookup(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', { ...inputs[0]!, dims: gpuDims(inputs[0]!.dims) }, 0);
  const T = b.input('T', inputs[1]!, 1);
  const Y = b.output('Y', { ...outputs[0]!, dims: gpuDims(outputs[0]!.dims) });
  const count = sizeOf(outputs[0]!.dims);
  const n = b.uniform('n', 'u32', count);
  const base = lookupBase(inputs[0]!.dtype);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = u32(i32(${X.get('global_idx')}) - (${base}));`,
    `  ${Y.set('global_idx', T.get('j'))}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `QLinearLookup:${ctx.node}`, body, totalInvocations: count })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('kiln', 'QLinearLookup')]: qlinearLookup };
