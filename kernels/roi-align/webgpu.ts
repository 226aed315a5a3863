import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { roiLayout } from './op.ts';

/**
 * One invocation per output element: the region's geometry from its box, then the bin's samples
 * (op.ts's roiGeometry and sampleAt, step by step). A batch index out of range cannot raise an
 * error here: that region's outputs are 0 (the CPU path rejects it).
 */
const roiAlign: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = roiLayout(inputs, ctx);
  const total = product(L.out.dims);
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const R = b.input('R', inputs[1]!, 1);
  const I = b.input('I', inputs[2]!, 2);
  const Y = b.output('Y', outputs[0]!);
  const n = b.uniform('n', 'u32', total);
  const scale = b.uniform('scale', 'f32', L.scale);
  const ratio = b.uniform('ratio', 'u32', L.samplingRatio);
  const [h, w] = [X.shape(2), X.shape(3)];
  const fh = `f32(${h})`;
  const fw = `f32(${w})`;
  const offset = L.halfPixel ? '0.5' : '0.0';
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let pw = global_idx % ${Y.shape(3)};`,
    `  let ph = (global_idx / ${Y.shape(3)}) % ${Y.shape(2)};`,
    `  let c = (global_idx / (${Y.shape(3)} * ${Y.shape(2)})) % ${Y.shape(1)};`,
    `  let r = global_idx / (${Y.shape(3)} * ${Y.shape(2)} * ${Y.shape(1)});`,
    `  let batch = i32(${I.get('r')});`,
    `  if (batch < 0 || batch >= i32(${X.shape(0)})) { ${Y.set('global_idx', '0.0')} return; }`,
    `  let x1 = ${R.get('r * 4u')} * ${scale} - ${offset};`,
    `  let y1 = ${R.get('r * 4u + 1u')} * ${scale} - ${offset};`,
    `  var rw = ${R.get('r * 4u + 2u')} * ${scale} - ${offset} - x1;`,
    `  var rh = ${R.get('r * 4u + 3u')} * ${scale} - ${offset} - y1;`,
    L.halfPixel ? '' : '  rw = max(rw, 1.0);\n  rh = max(rh, 1.0);',
    `  let bin_h = rh / f32(${Y.shape(2)});`,
    `  let bin_w = rw / f32(${Y.shape(3)});`,
    `  let grid_h = select(u32(ceil(rh / f32(${Y.shape(2)}))), ${ratio}, ${ratio} > 0u);`,
    `  let grid_w = select(u32(ceil(rw / f32(${Y.shape(3)}))), ${ratio}, ${ratio} > 0u);`,
    `  let base = (u32(batch) * ${X.shape(1)} + c) * ${h} * ${w};`,
    '  var acc = 0.0;',
    '  var first = true;',
    '  for (var iy = 0u; iy < grid_h; iy++) {',
    '    for (var ix = 0u; ix < grid_w; ix++) {',
    '      var y = y1 + f32(ph) * bin_h + (f32(iy) + 0.5) * bin_h / f32(grid_h);',
    '      var x = x1 + f32(pw) * bin_w + (f32(ix) + 0.5) * bin_w / f32(grid_w);',
    '      var t = vec4<f32>(0.0);',
    `      if (!(y < -1.0 || y > ${fh} || x < -1.0 || x > ${fw})) {`,
    '        y = max(y, 0.0);',
    '        x = max(x, 0.0);',
    '        var yl = u32(y);',
    '        var xl = u32(x);',
    '        var yh = yl + 1u;',
    '        var xh = xl + 1u;',
    `        if (yl >= ${h} - 1u) { yl = ${h} - 1u; yh = yl; y = f32(yl); }`,
    `        if (xl >= ${w} - 1u) { xl = ${w} - 1u; xh = xl; x = f32(xl); }`,
    '        let ly = y - f32(yl);',
    '        let lx = x - f32(xl);',
    `        t = vec4<f32>((1.0 - ly) * (1.0 - lx) * ${X.get(`base + yl * ${w} + xl`)}, (1.0 - ly) * lx * ${X.get(`base + yl * ${w} + xh`)},`,
    `                      ly * (1.0 - lx) * ${X.get(`base + yh * ${w} + xl`)}, ly * lx * ${X.get(`base + yh * ${w} + xh`)});`,
    '      }',
    L.max ? '      let v = max(max(t.x, t.y), max(t.z, t.w));\n      acc = select(max(acc, v), v, first);\n      first = false;' : '      acc += t.x + t.y + t.z + t.w;',
    '    }',
    '  }',
    `  ${Y.set('global_idx', L.max ? 'acc' : 'acc / f32(max(grid_h * grid_w, 1u))')}`,
  ].filter((l) => l !== '').join('\n');
  return { kind: 'programs', programs: [b.build({ label: `RoiAlign:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = { [opKey('', 'RoiAlign')]: roiAlign };
