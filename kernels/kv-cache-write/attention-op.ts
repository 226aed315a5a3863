// KvCacheAttention (domain 'kiln', internal like KvCacheWrite): softmax(Q K^T * scale) V where query s
// of the step sees only the cache's keys 0 .. offset + s, the ones written so far. It stands where
// generate()'s decode graph would attend over the whole cache with the empty slots masked
// (MatMul, Mul, Where, Softmax, MatMul), so a step's cost follows the position, not the cache's length.
// Q [B, H, S, D]; K, V [B, H, M, D] (the caches KvCacheWrite made), or K the stacked cache
// [2, B, H, M, D] of com.microsoft Attention with V omitted (keys then values in one tensor, read in
// place: no slice of the cache per step); offset as KvCacheWrite's;
// optional bias [B|1, H|1, S, M] added to the scores (a fused op's attention_bias, whose last axis
// follows the attention mask, which generate()'s in-place feeds make as long as the cache).
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { fromNumbers, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { checkedOffset } from './write-op.ts';

export interface KvAttentionShape {
  /** batch x heads */
  readonly slabs: number;
  /** queries per slab (S) */
  readonly queries: number;
  /** cache positions (M) */
  readonly capacity: number;
  /** head size (D) */
  readonly width: number;
  readonly scale: number;
  /** heads (H): slab = b * heads + h */
  readonly heads: number;
  /** K is the stacked [2, B, H, M, D] cache and V its second half, `slabs * capacity * width` elements in */
  readonly stacked: boolean;
  /** the additive bias's strides per batch and per head (0 where it broadcasts), or undefined without one */
  readonly bias?: { readonly batchStride: number; readonly headStride: number };
}

export function inferKvCacheAttention(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; shape: KvAttentionShape } {
  const [q, kIn, vIn, offset, bias] = inputs;
  // stacked: one [2, B, H, M, D] input, each half seen as a [B, H, M, D] cache
  const stacked = !vIn && kIn?.dims.length === 5;
  if (stacked && kIn.dims[0] !== 2) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention's stacked cache must be [2, B, H, M, D], given [${kIn.dims.join(', ')}]`);
  const k = stacked ? { dtype: kIn.dtype, dims: kIn.dims.slice(1) } : kIn;
  const v = stacked ? k : vIn;
  if (!q || !k || !v || !offset) return fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention takes Q, K, V (or Q and a stacked [2, B, H, M, D] cache), offset and an optional bias`);
  const same = (a: TensorMeta, b: TensorMeta): boolean => a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
  if (q.dims.length !== 4 || !same(k, v) || k.dims.length !== 4 || k.dims[0] !== q.dims[0] || k.dims[1] !== q.dims[1] || k.dims[3] !== q.dims[3] || q.dims[2]! > k.dims[2]!) {
    fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention needs Q [B, H, S, D] and K, V [B, H, M, D] with S <= M, given [${q.dims.join(', ')}], [${k.dims.join(', ')}], [${v.dims.join(', ')}]`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype || (q.dtype !== 'float32' && q.dtype !== 'float16')) fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention takes float32 or float16 Q, K, V of one type`);
  const scale = ctx.attrs.float('scale');
  if (scale === undefined || !Number.isFinite(scale)) return fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention needs a finite scale`);
  const [b, h, s, d] = q.dims as [number, number, number, number];
  const m = k.dims[2]!;
  let strides: KvAttentionShape['bias'];
  if (bias) {
    const [db, dh, ds, dm] = bias.dims;
    if (bias.dims.length !== 4 || (db !== b && db !== 1) || (dh !== h && dh !== 1) || ds !== s || dm !== m || bias.dtype !== q.dtype) {
      fail('INVALID_GRAPH', `node '${ctx.node}': KvCacheAttention bias must be ${q.dtype} [${b} or 1, ${h} or 1, ${s}, ${m}] (its last axis the cache's length), given ${bias.dtype} [${bias.dims.join(', ')}]`);
    }
    strides = { batchStride: db === 1 ? 0 : dh! * s * m, headStride: dh === 1 ? 0 : s * m };
  }
  return { out: { dtype: q.dtype, dims: q.dims }, shape: { slabs: b * h, queries: s, capacity: m, width: d, scale, heads: h, stacked, ...(strides ? { bias: strides } : {}) } };
}

/** The attention over keys 0 .. offset + s for each query, on plain arrays: the reference and the CPU kernels' core. */
export function kvAttentionRows(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, y: { [i: number]: number }, shape: KvAttentionShape, offset: number, bias?: ArrayLike<number>): void {
  const { slabs, queries, capacity, width, scale, heads } = shape;
  const strides = bias && shape.bias;
  const scores = new Float64Array(capacity);
  const acc = new Float64Array(width);
  for (let slab = 0; slab < slabs; slab++) {
    for (let s = 0; s < queries; s++) {
      const qBase = (slab * queries + s) * width;
      const last = Math.min(capacity - 1, offset + s);
      const biasBase = strides ? Math.floor(slab / heads) * strides.batchStride + (slab % heads) * strides.headStride + s * capacity : 0;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        const kBase = (slab * capacity + j) * width;
        let dot = 0;
        for (let i = 0; i < width; i++) dot += q[qBase + i]! * k[kBase + i]!;
        scores[j] = dot * scale + (strides ? bias![biasBase + j]! : 0);
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      acc.fill(0);
      for (let j = 0; j <= last; j++) {
        const p = scores[j]!;
        const vBase = (slab * capacity + j) * width; // rows of V in order: memory read straight through
        for (let i = 0; i < width; i++) acc[i] += p * v[vBase + i]!;
      }
      for (let i = 0; i < width; i++) y[qBase + i] = acc[i]! / sum;
    }
  }
}

export const kvCacheAttention: OpDefinition = {
    opType: 'KvCacheAttention',
    domain: 'kiln',
    inferOutputs: (inputs, ctx) => [inferKvCacheAttention(inputs, ctx).out],
    reference(inputs, ctx): AnyTensor[] {
      const [q, k, v, offsetTensor, bias] = inputs as [AnyTensor, AnyTensor, AnyTensor | undefined, AnyTensor, AnyTensor | undefined];
      const { out, shape } = inferKvCacheAttention([q, k, v, offsetTensor, bias].map((t) => t && { dtype: t.type, dims: t.dims }), ctx);
      const offset = checkedOffset(toNumbers(offsetTensor)[0]!, { slabs: shape.slabs, capacity: shape.capacity, count: shape.queries, width: shape.width }, ctx);
      const y = new Float64Array(shape.slabs * shape.queries * shape.width);
      const keys = toNumbers(k);
      const half = shape.slabs * shape.capacity * shape.width;
      kvAttentionRows(toNumbers(q), shape.stacked ? keys.subarray(0, half) : keys, shape.stacked ? keys.subarray(half) : toNumbers(v!), y, shape, offset, bias && toNumbers(bias));
      return [fromNumbers(out.dtype, out.dims, y)];
    },
  };
