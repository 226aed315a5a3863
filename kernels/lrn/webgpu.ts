import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { lrnLayout } from './op.ts';

/** LRN: one invocation per element, summing the squares of its channel window. */
const lrn: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = lrnLayout(inputs, ctx);
  const total = product(L.out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', total);
  const plane = b.uniform('plane', 'u32', L.plane);
  const channels = b.uniform('channels', 'i32', L.channels);
  const before = b.uniform('before', 'i32', Math.floor((L.size - 1) / 2));
  const after = b.uniform('after', 'i32', Math.ceil((L.size - 1) / 2));
  const scale = b.uniform('scale', 'f32', L.alpha / L.size);
  const bias = b.uniform('bias', 'f32', L.bias);
  const beta = b.uniform('beta', 'f32', L.beta);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let c = i32((global_idx / ${plane}) % u32(${channels}));`,
    '  var square = 0.0;',
    `  for (var k = max(0, c - ${before}); k <= min(${channels} - 1, c + ${after}); k++) {`,
    `    let v = ${X.get(`u32(i32(global_idx) + (k - c) * i32(${plane}))`)};`,
    '    square += v * v;',
    '  }',
    `  ${Y.set('global_idx', `${X.get('global_idx')} / pow(${bias} + ${scale} * square, ${beta})`)}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `LRN:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'LRN')]: lrn };
