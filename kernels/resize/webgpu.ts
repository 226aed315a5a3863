import { product } from '../common/shape.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { coordParams, planResize, type ResizePlan } from './op.ts';

// ---- GPU: nearest (any type), linear and cubic (float types) without antialias.

function resizeGpu(op: string, p: ResizePlan, x: TensorMeta, out: TensorMeta, ctx: GpuKernelContext): GpuLowering | undefined {
  const total = product(out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  if (p.antialias) return undefined;
  const float = x.dtype === 'float32' || x.dtype === 'float16';
  if (p.mode !== 'nearest' && !float) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', x, 0);
  const Y = b.output('Y', out);
  const n = b.uniform('n', 'u32', total);
  const rank = x.dims.length;
  const cp = x.dims.map((_, d) => coordParams(p, d));
  const [cAdd, cMul, cDiv, cShift] = ['add', 'mul', 'div', 'shift'].map((name, i) => b.uniformArray(`coord_${name}`, 'f32', cp.map((c) => c[i]!)));
  const sc = b.uniformArray('scale', 'f32', p.scales);
  const A = b.uniform('cubic_a', 'f32', p.cubicA);
  const extra = b.uniform('extrapolation', X.type, X.type === 'f32' ? p.extrapolation : Math.trunc(p.extrapolation));
  const K = p.resized.length;
  const T = p.mode === 'nearest' ? 1 : p.mode === 'linear' ? 2 : 4;
  const lines = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let idx = ${Y.offsetToIndices('global_idx')};`,
    '  var base = 0u;',
    '  var outside = false;',
    `  var ti: array<array<i32, ${T}>, ${Math.max(K, 1)}>;`,
    `  var tw: array<array<f32, ${T}>, ${Math.max(K, 1)}>;`,
  ];
  for (let d = 0; d < rank; d++) if (!p.resized.includes(d)) lines.push(`  base += idx[${d}] * ${X.stride(d)};`);
  p.resized.forEach((d, k) => {
    lines.push('  {', `    let len = i32(${X.shape(d)});`, `    let x = (f32(idx[${d}]) + ${cAdd}(${d}u)) * ${cMul}(${d}u) / ${cDiv}(${d}u) + ${cShift}(${d}u);`);
    if (p.coord === 'tf_crop_and_resize') lines.push('    if (x < 0.0 || x > f32(len - 1)) { outside = true; }');
    if (p.mode === 'nearest') {
      lines.push(`    ti[${k}][0] = ${wgslNearest(p.nearest, `${sc}(${d}u)`)};`, `    tw[${k}][0] = 1.0;`);
    } else {
      lines.push('    let i0 = ceil(x) - 1.0;', '    let r = x - i0;', `    let first = i32(i0) - ${T / 2 - 1};`);
      for (let j = 0; j < T; j++) {
        const t = `${j - (T / 2 - 1)}.0 - r`;
        const w = p.mode === 'linear' ? `max(0.0, 1.0 - abs(${t}))` : `kiln_keys(${t}, ${A})`;
        lines.push(`    ti[${k}][${j}] = first + ${j};`, `    tw[${k}][${j}] = ${w};`);
      }
      if (p.excludeOutside) {
        lines.push('    var sum = 0.0;');
        for (let j = 0; j < T; j++) lines.push(`    if (ti[${k}][${j}] < 0 || ti[${k}][${j}] >= len) { tw[${k}][${j}] = 0.0; }`, `    sum += tw[${k}][${j}];`);
        for (let j = 0; j < T; j++) lines.push(`    tw[${k}][${j}] = tw[${k}][${j}] / sum;`);
      }
    }
    for (let j = 0; j < T; j++) lines.push(`    ti[${k}][${j}] = clamp(ti[${k}][${j}], 0, len - 1);`);
    lines.push('  }');
  });
  lines.push(`  if (outside) { ${Y.set('global_idx', extra)} return; }`);
  if (p.mode === 'nearest') {
    const off = ['base', ...p.resized.map((d, k) => `u32(ti[${k}][0]) * ${X.stride(d)}`)].join(' + ');
    lines.push(`  ${Y.set('global_idx', X.get(off))}`);
  } else {
    b.helper('kiln_keys', KEYS);
    lines.push('  var acc = 0.0;', `  for (var c = 0u; c < ${T ** K}u; c++) {`, '    var rest = c;', '    var off = base;', '    var w = 1.0;');
    p.resized.forEach((d, k) => {
      lines.push(`    let t${k} = rest % ${T}u;`, `    rest = rest / ${T}u;`, `    off += u32(ti[${k}][t${k}]) * ${X.stride(d)};`, `    w *= tw[${k}][t${k}];`);
    });
    lines.push(`    acc += w * f32(${X.get('off')});`, '  }', `  ${Y.set('global_idx', 'acc')}`);
  }
  return { kind: 'programs', programs: [b.build({ label: `${op}:${ctx.node}`, body: lines.join('\n'), totalInvocations: total })] };
}

const KEYS = `fn kiln_keys(t: f32, a: f32) -> f32 {
  let x = abs(t);
  if (x <= 1.0) { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0; }
  if (x < 2.0) { return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a; }
  return 0.0;
}`;

function wgslNearest(mode: string, scale: string): string {
  const pick = ((): string => {
    switch (mode) {
      case 'simple': return `select(floor(x), ceil(x), ${scale} < 1.0)`;
      case 'round_prefer_ceil': return 'select(ceil(x), floor(x), x - floor(x) < 0.5)';
      case 'floor': return 'floor(x)';
      case 'ceil': return 'ceil(x)';
      default: return 'select(ceil(x), floor(x), x - floor(x) <= 0.5)';
    }
  })();
  return `i32(${pick})`;
}

const lowering = (op: string): WebGpuKernel => (inputs, outputs, ctx) => {
  const x = inputs[0]!;
  return resizeGpu(op, planResize(op, x, ctx), x, outputs[0]!, ctx);
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'Resize')]: lowering('Resize'), [opKey('', 'Upsample')]: lowering('Upsample') };
