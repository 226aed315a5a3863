import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { scanLayout, type ScanOp } from './op.ts';

/** One invocation per line along the axis, scanning it in order (accumulating in the storage type). */
const scan = (op: ScanOp): WebGpuKernel => (inputs, outputs, ctx): GpuLowering => {
  const L = scanLayout(inputs, ctx, op);
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
    `  var acc = ${X.type}(${op === 'CumSum' ? 0 : 1});`,
    `  for (var step = 0u; step < ${len}; step++) {`,
    `    let at = base + (${j}) * ${inner};`,
    L.exclusive ? `    ${Y.set('at', 'acc')}\n    acc ${op === 'CumSum' ? '+' : '*'}= ${X.get('at')};` : `    acc ${op === 'CumSum' ? '+' : '*'}= ${X.get('at')};\n    ${Y.set('at', 'acc')}`,
    '  }',
  ].join('\n');
  return { kind: 'programs', programs: lines === 0 || L.len === 0 ? [] : [b.build({ label: `${op}:${ctx.node}`, body, totalInvocations: lines })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'CumSum')]: scan('CumSum'), [opKey('', 'CumProd')]: scan('CumProd') };
