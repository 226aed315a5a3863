import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { oneHotLayout } from './op.ts';

/** One invocation per output element: on where the (resolved) index equals its place on the new axis. */
const oneHot: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = oneHotLayout(inputs, ctx);
  const total = product(L.out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const I = b.input('I', inputs[0]!.dims.length ? inputs[0]! : { ...inputs[0]!, dims: [1] }, 0);
  const V = b.input('V', inputs[2]!, 2);
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', total);
  const depth = b.uniform('depth', 'i32', L.depth);
  const inner = b.uniform('inner', 'u32', L.inner);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inner};`,
    `  let d = i32((global_idx / ${inner}) % u32(${depth}));`,
    `  let o = global_idx / (${inner} * u32(${depth}));`,
    `  let raw = i32(trunc(f32(${I.get(`o * ${inner} + i`)})));`,
    `  let at = select(raw, raw + ${depth}, raw < 0);`,
    `  ${Y.set('global_idx', V.get('select(0u, 1u, at == d)'))}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `OneHot:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'OneHot')]: oneHot };
