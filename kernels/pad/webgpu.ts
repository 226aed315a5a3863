import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { padSpec, type Mode } from './op.ts';

/** WGSL for the same map on `i` (i32) against `len` (i32); the result is only used when in range. */
function wgslMap(mode: Mode): string {
  switch (mode) {
    case 'constant': return 'i';
    case 'edge': return 'clamp(i, 0, len - 1)';
    case 'wrap': return '((i % len) + len) % len';
    case 'reflect': return 'kiln_reflect(i, len)';
  }
}

const REFLECT = `fn kiln_reflect(i: i32, n: i32) -> i32 {
  if (n == 1) { return 0; }
  let p = 2 * (n - 1);
  let m = ((i % p) + p) % p;
  return select(p - m, m, m < n);
}`;

const pad: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
    const x = inputs[0]!;
    const p = padSpec(x, ctx);
    const out = outputs[0]!;
    const total = product(out.dims);
    if (total === 0) return { kind: 'programs', programs: [] };
    const b = new ShaderBuilder(ctx.caps);
    const X = b.input('X', x, 0);
    const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
    const n = b.uniform('n', 'u32', total);
    const begin = b.uniformArray('pad_begin', 'i32', p.begin.length ? p.begin : [0]);
    const value = b.uniform('pad_value', X.type, X.type === 'f32' ? p.value : Math.trunc(p.value));
    if (p.mode === 'reflect') b.helper('kiln_reflect', REFLECT);
    const lines = [
      `  if (global_idx >= ${n}) { return; }`,
      `  let idx = ${Y.offsetToIndices('global_idx')};`,
      '  var off = 0u;',
      '  var inside = true;',
    ];
    for (let a = 0; a < x.dims.length; a++) {
      lines.push(
        '  {',
        `    let len = i32(${X.shape(a)});`,
        `    let i = i32(idx[${a}]) - ${begin}(${a}u);`,
        `    let j = ${wgslMap(p.mode)};`,
        '    if (j < 0 || j >= len) { inside = false; }',
        `    off += u32(max(j, 0)) * ${X.stride(a)};`,
        '  }',
      );
    }
    lines.push(`  if (inside) { ${Y.set('global_idx', X.get('off'))} } else { ${Y.set('global_idx', value)} }`);
    return { kind: 'programs', programs: [b.build({ label: `Pad:${ctx.node}`, body: lines.join('\n'), totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Pad')]: pad };
