import type { TensorMeta } from '../contract.ts';
import type { WebGpuKernel } from '../webgpu/contract.ts';
import type { Src } from '../attention/flash-wgsl.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { flashProgram } from '../attention/flash-wgsl.ts';
import { inferKvCacheAttention } from './attention-op.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

/** Head sizes the shaders' private accumulators hold (their length is baked into the WGSL). */
const MAX_HEAD = 256;
/**
 * From this many queries per step on (a prefill), the tiled form: one full 64-row query tile. Below
 * it most of a workgroup idles, and on SwiftShader the per-row form was as fast or faster up to 64
 * queries (bench/node/kv-prefill-bench.ts; docs/decisions.md "attn-inplace").
 */
export const TILED_FROM_QUERIES = 64;

/**
 * Two forms, both reading only keys 0 .. offset + s (the offset read on the GPU, so one pipeline
 * serves every position):
 * - few queries (decode): one invocation per query row, an online softmax over the written keys;
 * - many queries (prefill): the MHA path's flash kernel (kernels/attention/flash-wgsl.ts), a
 *   workgroup per (head, 64 query rows) staging K/V tiles in workgroup memory, its causal window
 *   taken from the offset (past length = offset), output written heads-first.
 * The optional bias [B|1, H|1, S, M] is added to each score. A stacked cache [2, B, H, M, D] is
 * bound once, V read at its second half.
 */
export const kvCacheAttention: WebGpuKernel = (inputs, outputs, ctx) => {
  if (inputs[0]?.dtype !== 'float32') return undefined;
  const { shape } = inferKvCacheAttention(inputs, ctx);
  if (shape.width > MAX_HEAD) return undefined;
  const bias = inputs[4];
  const vBase = shape.stacked ? shape.slabs * shape.capacity * shape.width : 0;
  // benches set KILN_KV_TILED_FROM (core/dev-knobs.ts; Infinity: the per-row form at every S) to compare the two
  if (shape.queries >= (devKnobs.KILN_KV_TILED_FROM ?? TILED_FROM_QUERIES)) {
    const [B, N, S, D] = inputs[0].dims as [number, number, number, number];
    const src = (index: number): Src => ({ ref: { kind: 'input', index }, meta: inputs[index] as TensorMeta });
    const program = flashProgram({
      label: `KvCacheAttention:${ctx.node}`,
      B, N, Nkv: N, S, T: shape.capacity, Tbuf: shape.capacity, H: D, Hv: D,
      q: src(0), k: src(1), kBase: 0, v: src(shape.stacked ? 1 : 2), vBase,
      out: { ref: { kind: 'output', index: 0 }, meta: outputs[0]! },
      outBnsh: true,
      scale: shape.scale, softcap: 0, smooth: false,
      mask: { gqa: { pastLen: { kind: 'offset', src: src(3) }, window: -1 }, ...(bias ? { attnBias: src(4) } : {}), past: 0 },
    }, ctx.caps);
    return { kind: 'programs', programs: [program] };
  }
  const b = new ShaderBuilder(ctx.caps);
  const Q = b.input('Q', inputs[0], 0);
  const K = b.input('K', inputs[1]!, 1);
  const V = shape.stacked ? K : b.input('V', inputs[2]!, 2);
  const O = b.input('O', inputs[3]!, 3);
  const A = bias && b.input('A', bias, 4);
  const Y = b.output('Y', outputs[0]!);
  const rows = shape.slabs * shape.queries;
  const n = b.uniform('rows', 'u32', rows);
  const queries = b.uniform('queries', 'u32', shape.queries);
  const capacity = b.uniform('capacity', 'u32', shape.capacity);
  const scale = b.uniform('scale', 'f32', shape.scale);
  const D = shape.width;
  const valueAt = shape.stacked ? `${b.uniform('v_base', 'u32', vBase)} + kv + i` : 'kv + i';
  const biasTerm = A && shape.bias
    ? (() => {
      const heads = b.uniform('heads', 'u32', shape.heads);
      const bs = b.uniform('bias_batch', 'u32', shape.bias.batchStride);
      const hs = b.uniform('bias_head', 'u32', shape.bias.headStride);
      return ` + f32(${A.get(`(slab / ${heads}) * ${bs} + (slab % ${heads}) * ${hs} + s * ${capacity} + u32(j)`)})`;
    })()
    : '';
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
    `    dot = dot * ${scale}${biasTerm};`,
    `    let mNew = max(m, dot);`,
    `    let corr = exp(m - mNew);`,
    `    let p = exp(dot - mNew);`,
    `    l = l * corr + p;`,
    `    for (var i = 0u; i < ${D}u; i++) { acc[i] = acc[i] * corr + p * f32(${V.get(valueAt)}); }`,
    `    m = mNew;`,
    `  }`,
    `  for (var i = 0u; i < ${D}u; i++) { ${Y.set('q + i', 'acc[i] / l')} }`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `KvCacheAttention:${ctx.node}`, body, totalInvocations: rows })] };
};
