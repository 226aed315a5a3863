import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { outputCount, splitLayout } from './op.ts';

/** One copy program per non-empty output: output element i reads row i / row of the input at the part's start. */
const split: WebGpuKernel = (inputs, outputs, ctx) => {
  const { x, axis, lengths } = splitLayout(inputs, ctx, outputCount(ctx));
  const inner = product(x.dims, axis + 1);
  const outer = product(x.dims, 0, axis);
  const programs: GpuProgram[] = [];
  let start = 0;
  lengths.forEach((len, slot) => {
    const m = outputs[slot]!;
    const total = outer * len * inner;
    // Unused outputs come as [0] (but still advance `start`); they and empty parts need no program.
    if (total > 0 && product(m.dims) === total) {
      const b = new ShaderBuilder(ctx.caps);
      const X = b.input('X', x, 0);
      const Y = b.output('Y', m, slot);
      const n = b.uniform('n', 'u32', total);
      const row = b.uniform('row', 'u32', len * inner);
      const rowIn = b.uniform('row_in', 'u32', x.dims[axis]! * inner);
      const st = b.uniform('start', 'u32', start * inner);
      const body = [
        `  if (global_idx >= ${n}) { return; }`,
        `  let r = global_idx / ${row};`,
        `  ${Y.set('global_idx', X.get(`r * ${rowIn} + ${st} + global_idx % ${row}`))}`,
      ].join('\n');
      programs.push(b.build({ label: `Split:${ctx.node}#${slot}`, body, totalInvocations: total }));
    }
    start += len;
  });
  return { kind: 'programs', programs };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Split')]: split };
