import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { gridLayout } from './op.ts';

/**
 * One invocation per output element: the point's coordinates per spatial dim, then a loop over
 * the 1, 2^r or 4^r taps (the WGSL mirrors op.ts step by step; r is baked, sizes are uniforms).
 * WGSL's round() rounds half to even, as the reference's nearest mode does.
 */
const HELPERS = [
  'fn gs_reflect(x: f32, lo: f32, hi: f32) -> f32 {',
  '  let range = hi - lo;',
  '  if (range <= 0.0) { return lo; }',
  '  if (x < lo) {',
  '    let dx = lo - x;',
  '    let n = floor(dx / range);',
  '    let r = dx - n * range;',
  '    return select(hi - r, lo + r, i32(n) % 2 == 0);',
  '  }',
  '  if (x > hi) {',
  '    let dx = x - hi;',
  '    let n = floor(dx / range);',
  '    let r = dx - n * range;',
  '    return select(lo + r, hi - r, i32(n) % 2 == 0);',
  '  }',
  '  return x;',
  '}',
  'fn gs_cubic(k: u32, t: f32) -> f32 {',
  '  let a = -0.75;',
  '  let x = abs(select(select(select(2.0 - t, 1.0 - t, k == 2u), t, k == 1u), t + 1.0, k == 0u));',
  '  if (x <= 1.0) { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0; }',
  '  return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;',
  '}',
].join('\n');

const gridSample: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = gridLayout(inputs, ctx);
  const total = product(L.out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const r = L.spatial.length;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const G = b.input('G', inputs[1]!, 1);
  const Y = b.output('Y', outputs[0]!);
  b.helper('gs_helpers', HELPERS);
  const n = b.uniform('n', 'u32', total);
  const points = b.uniform('points', 'u32', L.points);
  const plane = b.uniform('plane', 'u32', product(L.spatial));
  const K = L.mode === 'nearest' ? 1 : L.mode === 'linear' ? 2 : 4;
  const lo = L.alignCorners ? '0.0' : '-0.5';
  const size = (d: number): string => X.shape(2 + d);
  const lines = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let p = global_idx % ${points};`,
    `  let bc = global_idx / ${points};`,
    `  let batch = bc / ${X.shape(1)};`,
    `  let base = bc * ${plane};`,
  ];
  for (let d = 0; d < r; d++) {
    const sz = `f32(${size(d)})`;
    const hi = L.alignCorners ? `${sz} - 1.0` : `${sz} - 0.5`;
    lines.push(
      `  let g${d} = ${G.get(`(batch * ${points} + p) * ${r}u + ${r - 1 - d}u`)};`,
      `  var u${d} = ${L.alignCorners ? `(g${d} + 1.0) / 2.0 * (${sz} - 1.0)` : `((g${d} + 1.0) * ${sz} - 1.0) / 2.0`};`,
      L.mode === 'nearest' ? `  u${d} = round(u${d});` : '',
      // cubic mode pads only its taps (as op.ts says)
      L.mode === 'cubic' || L.padding === 'zeros' ? '' : `  if (u${d} < ${lo} || u${d} > ${hi}) {`,
      L.mode === 'cubic' ? '' : L.padding === 'border' ? `    u${d} = clamp(u${d}, 0.0, ${sz} - 1.0);` : L.padding === 'reflection' ? `    u${d} = gs_reflect(u${d}, ${lo}, ${hi});` : '',
      L.mode === 'cubic' || L.padding === 'zeros' ? '' : '  }',
      `  let f${d} = floor(u${d});`,
    );
  }
  lines.push('  var sum = 0.0;', `  for (var t = 0u; t < ${K ** r}u; t++) {`, '    var off = 0;', '    var w = 1.0;');
  for (let d = 0; d < r; d++) {
    const k = `((t / ${K ** (r - 1 - d)}u) % ${K}u)`;
    const sz = `i32(${size(d)})`;
    const hi = L.alignCorners ? `f32(${size(d)}) - 1.0` : `f32(${size(d)}) - 0.5`;
    lines.push(`    let k${d} = ${k};`);
    if (L.mode === 'nearest') lines.push(`    let i${d} = i32(u${d});`);
    else if (L.mode === 'linear') lines.push(`    let i${d} = i32(f${d}) + i32(k${d});`, `    w *= select(1.0 - (u${d} - f${d}), u${d} - f${d}, k${d} == 1u);`);
    else lines.push(`    let i${d} = i32(f${d}) - 1 + i32(k${d});`, `    w *= gs_cubic(k${d}, u${d} - f${d});`);
    const place = L.padding === 'zeros' ? `select(-1, i${d}, i${d} >= 0 && i${d} < ${sz})` : L.padding === 'border' ? `clamp(i${d}, 0, ${sz} - 1)` : `i32(gs_reflect(f32(i${d}), ${lo}, ${hi}))`;
    lines.push(`    let at${d} = ${place};`, `    off = select(off * ${sz} + at${d}, -1, off < 0 || at${d} < 0);`);
  }
  lines.push(`    if (off >= 0) { sum += w * ${X.get('base + u32(off)')}; }`, '  }', `  ${Y.set('global_idx', 'sum')}`);
  const body = lines.filter((l) => l !== '').join('\n');
  return { kind: 'programs', programs: [b.build({ label: `GridSample:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'GridSample')]: gridSample };
