import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { triluLayout } from './op.ts';

/** One invocation per element: copy it or write zero. k travels as an i32 uniform. */
const trilu: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = triluLayout(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!);
  const total = product(L.out.dims);
  const n = b.uniform('n', 'u32', total);
  const rows = b.uniform('rows', 'u32', L.rows);
  const cols = b.uniform('cols', 'u32', L.cols);
  // |k| beyond rows + cols keeps all or nothing: clamp so it fits an i32.
  const k = b.uniform('k', 'i32', Math.max(-(L.rows + L.cols), Math.min(L.rows + L.cols, L.k)));
  const keep = L.upper ? `j - i >= ${k}` : `j - i <= ${k}`;
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let j = i32(global_idx % ${cols});`,
    `  let i = i32((global_idx / ${cols}) % ${rows});`,
    `  ${Y.set('global_idx', `select(${X.type}(0), ${X.get('global_idx')}, ${keep})`)}`,
  ].join('\n');
  return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `Trilu:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Trilu')]: trilu };
