import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { tensorScatterLayout } from './op.ts';

/**
 * One pass over the output: each cache place asks which update row lands on it, s = pos - write
 * (modulo the cache length in circular mode), and takes it when 0 <= s < sequence_length, else
 * keeps the past value. No copy-then-scatter, no write order to respect.
 */
const tensorScatter: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = tensorScatterLayout(inputs, ctx);
  const total = product(L.out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const P = b.input('P', inputs[0]!, 0);
  const U = b.input('U', inputs[1]!, 1);
  const W = inputs[2] ? b.input('W', inputs[2], 2) : undefined;
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', total);
  const inner = b.uniform('inner', 'u32', L.inner);
  const maxLen = b.uniform('max_len', 'i32', L.maxLen);
  const seqLen = b.uniform('seq_len', 'i32', L.seqLen);
  const prefix = b.uniform('prefix', 'u32', L.prefix);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inner};`,
    `  let pos = i32((global_idx / ${inner}) % u32(${maxLen}));`,
    `  let row = global_idx / (${inner} * u32(${maxLen}));`,
    `  let batch = row / ${prefix};`,
    `  let start = ${W ? `i32(${W.get('batch')})` : '0'};`,
    L.circular ? `  let s = ((pos - start) % ${maxLen} + ${maxLen}) % ${maxLen};` : '  let s = pos - start;',
    `  if (start >= 0 && s >= 0 && s < ${seqLen}) {`,
    `    ${Y.set('global_idx', U.get(`(row * u32(${seqLen}) + u32(s)) * ${inner} + i`))}`,
    '  } else {',
    `    ${Y.set('global_idx', P.get('global_idx'))}`,
    '  }',
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `TensorScatter:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'TensorScatter')]: tensorScatter };
