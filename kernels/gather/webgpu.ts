import { product } from '../common/shape.ts';
import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { elementsLayout, gatherLayout, ndLayout } from './op.ts';

/** WGSL: the index read from `expr`, made non-negative and clamped to [0, n) (WGSL cannot throw). */
const wgslIndex = (expr: string, n: string): string => `u32(clamp(select(${expr}, ${expr} + i32(${n}), ${expr} < 0), 0, i32(${n}) - 1))`;

const gather: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const [data, indices] = [inputs[0]!, inputs[1]!];
  const out = outputs[0]!;
  const { axis } = gatherLayout(inputs, ctx);
  const b = new ShaderBuilder(ctx.caps);
  const D = b.input('D', data, 0);
  const I = b.input('I', indices, 1);
  const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
  const total = product(out.dims);
  const n = b.uniform('n', 'u32', total);
  const inner = b.uniform('inner', 'u32', product(data.dims, axis + 1));
  const count = b.uniform('count', 'u32', product(indices.dims));
  const axisLen = b.uniform('axis_len', 'u32', data.dims[axis]!);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inner};`,
    `  let j = (global_idx / ${inner}) % ${count};`,
    `  let o = global_idx / (${inner} * ${count});`,
    `  let raw = i32(${I.get('j')});`,
    `  let k = ${wgslIndex('raw', axisLen)};`,
    `  ${Y.set('global_idx', D.get(`(o * ${axisLen} + k) * ${inner} + i`))}`,
  ].join('\n');
  return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `Gather:${ctx.node}`, body, totalInvocations: total })] };
};

const gatherElements: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const [data, indices] = [inputs[0]!, inputs[1]!];
  const { axis } = elementsLayout(inputs, ctx);
  const out = outputs[0]!;
  const b = new ShaderBuilder(ctx.caps);
  const D = b.input('D', data, 0);
  const I = b.input('I', indices, 1);
  const Y = b.output('Y', out);
  const total = product(out.dims);
  const n = b.uniform('n', 'u32', total);
  const terms = data.dims.map((_, d) => (d === axis ? `k * ${D.stride(d)}` : `idx[${d}] * ${D.stride(d)}`)).join(' + ');
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let idx = ${Y.offsetToIndices('global_idx')};`,
    `  let raw = i32(${I.get('global_idx')});`,
    `  let k = ${wgslIndex('raw', D.shape(axis))};`,
    `  ${Y.set('global_idx', D.get(terms))}`,
  ].join('\n');
  return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `GatherElements:${ctx.node}`, body, totalInvocations: total })] };
};

const gatherND: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const [data, indices] = [inputs[0]!, inputs[1]!];
  const L = ndLayout(inputs, ctx);
  const out = outputs[0]!;
  const b = new ShaderBuilder(ctx.caps);
  const D = b.input('D', data, 0);
  const I = b.input('I', indices, 1);
  const Y = b.output('Y', { dtype: out.dtype, dims: out.dims.length ? out.dims : [1] });
  const total = product(out.dims);
  const n = b.uniform('n', 'u32', total);
  const slice = b.uniform('slice', 'u32', L.slice);
  const tuples = b.uniform('tuples', 'u32', L.tuples);
  const batchStride = b.uniform('batch_stride', 'u32', product(data.dims, L.first));
  const first = b.uniform('first', 'u32', L.first);
  const k = b.uniform('k', 'u32', L.k);
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${slice};`,
    `  let tuple = global_idx / ${slice};`,
    `  var off = (tuple / ${tuples}) * ${batchStride} + i;`,
    `  for (var j = 0u; j < ${k}; j++) {`,
    `    let raw = i32(${I.get(`tuple * ${k} + j`)});`,
    `    off += ${wgslIndex('raw', D.shape(`${first} + j`))} * ${D.stride(`${first} + j`)};`,
    '  }',
    `  ${Y.set('global_idx', D.get('off'))}`,
  ].join('\n');
  return { kind: 'programs', programs: total === 0 ? [] : [b.build({ label: `GatherND:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'Gather')]: gather,
  [opKey('', 'GatherElements')]: gatherElements,
  [opKey('', 'GatherND')]: gatherND,
};
