import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { scanLayout } from './op.ts';

/** One invocation per line along the axis, scanning it in order (sums accumulate in the storage type). */
const cumSum: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = scanLayout(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!);
  const lines = L.outer * L.inner;
  const n = b.uniform('lines', 'u32', lines);
  const len = b.uniform('len', 'u32', L.len);
  const inner = b.uniform('inner', 'u32', L.inner);
  const j = L.reverse ? `${len} - 1u - step` : 'step';
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let base = (global_idx / ${inner}) * ${len} * ${inner} + global_idx % ${inner};`,
    `  var sum = ${X.type}(0);`,
    `  for (var step = 0u; step < ${len}; step++) {`,
    `    let at = base + (${j}) * ${inner};`,
    L.exclusive ? `    ${Y.set('at', 'sum')}\n    sum += ${X.get('at')};` : `    sum += ${X.get('at')};\n    ${Y.set('at', 'sum')}`,
    '  }',
  ].join('\n');
  return { kind: 'programs', programs: lines === 0 || L.len === 0 ? [] : [b.build({ label: `CumSum:${ctx.node}`, body, totalInvocations: lines })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'CumSum')]: cumSum };
