import type { WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { inferKvCacheAttention } from './attention-op.ts';

/** Head sizes the shader's private accumulator holds (its length is baked into the WGSL). */
const MAX_HEAD = 256;

/**
 * One invocation per query row: an online softmax over keys 0 .. offset + s (the offset read on the
 * GPU), so the loop runs as far as the cache is filled and no further. A decode step has B x H rows:
 * few invocations, each short, which suits a software adapter; a hardware GPU would want the keys
 * split across a workgroup (not done).
 */
export const kvCacheAttention: WebGpuKernel = (inputs, outputs, ctx) => {
  if (inputs[0]?.dtype !== 'float32') return undefined;
  const { shape } = inferKvCacheAttention(inputs, ctx);
  if (shape.width > MAX_HEAD) return undefined;
  const b = new ShaderBuilder(ctx.caps);
  const Q = b.input('Q', inputs[0], 0);
  const K = b.input('K', inputs[1]!, 1);
  const V = b.input('V', inputs[2]!, 2);
  const O = b.input('O', inputs[3]!, 3);
  const Y = b.output('Y', outputs[0]!);
  const rows = shape.slabs * shape.queries;
  const n = b.uniform('rows', 'u32', rows);
  const queries = b.uniform('queries', 'u32', shape.queries);
  const capacity = b.uniform('capacity', 'u32', shape.capacity);
  const scale = b.uniform('scale', 'f32', shape.scale);
  const D = shape.width;
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let s = global_idx % ${queries};`,
    `  let slab = global_idx / ${queries};`,
    `  let last = min(i32(${O.get('0u')}) + i32(s), i32(${capacity}) - 1);`,
    `  let q = global_idx * ${D}u;`,
    `  var acc: array<f32, ${D}>;`,
    `  var m = -3.0e38;`,
    `  var l = 0.0;`,
    `  for (var j = 0; j <= last; j++) {`,
    `    let kv = (slab * ${capacity} + u32(j)) * ${D}u;`,
    `    var dot = 0.0;`,
    `    for (var i = 0u; i < ${D}u; i++) { dot += f32(${Q.get('q + i')}) * f32(${K.get('kv + i')}); }`,
    `    dot *= ${scale};`,
    `    let mNew = max(m, dot);`,
    `    let corr = exp(m - mNew);`,
    `    let p = exp(dot - mNew);`,
    `    l = l * corr + p;`,
    `    for (var i = 0u; i < ${D}u; i++) { acc[i] = acc[i] * corr + p * f32(${V.get('kv + i')}); }`,
    `    m = mNew;`,
    `  }`,
    `  for (var i = 0u; i < ${D}u; i++) { ${Y.set('q + i', 'acc[i] / l')} }`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `KvCacheAttention:${ctx.node}`, body, totalInvocations: rows })] };
};
