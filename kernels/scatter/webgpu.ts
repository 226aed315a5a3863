import { product } from '../common/shape.ts';
import type { ImplementationTable, TensorMeta } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuKernelContext, GpuLowering, GpuProgram, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder, type TensorVar } from '../webgpu/shader-builder.ts';
import { elementsScatterLayout, ndScatterLayout, type Reduction } from './op.ts';

/**
 * Scatter in two programs: copy data to the output, then apply the updates. The second program
 * gives each output place that updates may hit to one invocation, which applies the updates
 * for it in their order: duplicates combine (or the last wins) exactly as on the CPU, with no
 * atomics. An index out of range cannot raise an error here: that update is skipped.
 */

function combineWgsl(r: Reduction, a: string, u: string): string {
  switch (r) {
    case 'none': return u;
    case 'add': return `${a} + ${u}`;
    case 'mul': return `${a} * ${u}`;
    case 'max': return `max(${a}, ${u})`;
    case 'min': return `min(${a}, ${u})`;
  }
}

function copyProgram(data: TensorMeta, out: TensorMeta, ctx: GpuKernelContext): GpuProgram {
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', data, 0);
  const Y = b.output('Y', out);
  const total = product(out.dims);
  const n = b.uniform('n', 'u32', total);
  return b.build({ label: `ScatterCopy:${ctx.node}`, body: `  if (global_idx >= ${n}) { return; }\n  ${Y.set('global_idx', X.get('global_idx'))}`, totalInvocations: total });
}

/** WGSL: `raw` (an i32 index) resolved against `n`, or -1 when out of range. */
const resolved = (raw: string, n: string): string => `select(${raw}, ${raw} + i32(${n}), ${raw} < 0)`;

function apply(Y: TensorVar, U: TensorVar, r: Reduction, at: string, src: string): string {
  return Y.set(at, combineWgsl(r, Y.get(at), U.get(src)));
}

const scatterND: WebGpuKernel = (inputs, outputs, ctx): GpuLowering => {
  const L = ndScatterLayout(inputs, ctx);
  const out = outputs[0]!;
  if (product(out.dims) === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const D = b.input('D', inputs[0]!, 0);
  const I = b.input('I', inputs[1]!, 1);
  const U = b.input('U', inputs[2]!, 2);
  const Y = b.output('Y', out);
  const slice = b.uniform('slice', 'u32', L.slice);
  const tuples = b.uniform('tuples', 'u32', L.tuples);
  const k = b.uniform('k', 'u32', L.k);
  const body = [
    `  if (global_idx >= ${slice}) { return; }`,
    `  for (var t = 0u; t < ${tuples}; t++) {`,
    '    var off = 0u;',
    '    var ok = true;',
    `    for (var j = 0u; j < ${k}; j++) {`,
    `      let raw = i32(${I.get(`t * ${k} + j`)});`,
    `      let at = ${resolved('raw', D.shape('j'))};`,
    `      ok = ok && at >= 0 && at < i32(${D.shape('j')});`,
    `      off += u32(max(at, 0)) * ${D.stride('j')};`,
    '    }',
    `    if (ok) { ${apply(Y, U, L.reduction, 'off + global_idx', `t * ${slice} + global_idx`)} }`,
    '  }',
  ].join('\n');
  const programs = [copyProgram(inputs[0]!, out, ctx)];
  if (L.tuples > 0 && L.slice > 0) programs.push(b.build({ label: `ScatterND:${ctx.node}`, body, totalInvocations: L.slice }));
  return { kind: 'programs', programs };
};

function scatterElements(opType: string): WebGpuKernel {
  return (inputs, outputs, ctx): GpuLowering => {
    const L = elementsScatterLayout(inputs, ctx, opType);
    const out = outputs[0]!;
    const indices = inputs[1]!;
    if (product(out.dims) === 0) return { kind: 'programs', programs: [] };
    const b = new ShaderBuilder(ctx.caps);
    const D = b.input('D', inputs[0]!, 0);
    const I = b.input('I', indices, 1);
    const U = b.input('U', inputs[2]!, 2);
    const Y = b.output('Y', out);
    const len = indices.dims[L.axis]!;
    const lines = product(indices.dims) / Math.max(len, 1);
    const nLines = b.uniform('lines', 'u32', lines);
    const lenU = b.uniform('len', 'u32', len);
    const inner = b.uniform('inner', 'u32', product(indices.dims, L.axis + 1));
    const terms = indices.dims.map((_, d) => (d === L.axis ? `u32(at) * ${D.stride(d)}` : `idx[${d}] * ${D.stride(d)}`)).join(' + ');
    const body = [
      `  if (global_idx >= ${nLines}) { return; }`,
      `  let first = (global_idx / ${inner}) * ${lenU} * ${inner} + global_idx % ${inner};`,
      `  for (var j = 0u; j < ${lenU}; j++) {`,
      `    let e = first + j * ${inner};`,
      `    let idx = ${I.offsetToIndices('e')};`,
      `    let raw = i32(${I.get('e')});`,
      `    let at = ${resolved('raw', D.shape(L.axis))};`,
      `    if (at >= 0 && at < i32(${D.shape(L.axis)})) {`,
      `      let off = ${terms};`,
      `      ${apply(Y, U, L.reduction, 'off', 'e')}`,
      '    }',
      '  }',
    ].join('\n');
    const programs = [copyProgram(inputs[0]!, out, ctx)];
    if (lines > 0 && len > 0) programs.push(b.build({ label: `${opType}:${ctx.node}`, body, totalInvocations: lines }));
    return { kind: 'programs', programs };
  };
}

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'ScatterND')]: scatterND,
  [opKey('', 'ScatterElements')]: scatterElements('ScatterElements'),
  [opKey('', 'Scatter')]: scatterElements('Scatter'),
};
