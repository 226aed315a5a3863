import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { elementReader } from '../common/element-reader.ts';
import { definitions, embedPlan } from './op.ts';

/**
 * float32 tables read straight from their typed arrays, the row sum kept in the output buffer and
 * normalized in place (the reference goes through per-element readers and float64 copies).
 */
const embedLayerNorm: CpuKernel = (inputs, ctx): AnyTensor[] => {
  if ([2, 3, 4, 5, 6].some((s) => inputs[s] && inputs[s].type !== 'float32')) return definitions[0]!.reference(inputs, ctx);
  const p = embedPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const { batch, seq, hidden: H } = p;
  const f32 = (slot: number): Float32Array | undefined => inputs[slot]?.data as Float32Array | undefined;
  const [word, position, segment, gamma, beta] = [f32(2)!, f32(3)!, f32(4), f32(5)!, f32(6)];
  const ids = elementReader(inputs[0]!);
  const segIds = inputs[1] ? elementReader(inputs[1]) : undefined;
  const posIds = inputs[8] ? elementReader(inputs[8]) : undefined;
  const row = (v: number, rows: number, what: string): number => {
    if (!(v >= 0 && v < rows)) fail('INVALID_ARGUMENT', `node '${ctx.node}': ${what} ${v} is out of range [0, ${rows})`);
    return v;
  };
  const y = new Float32Array(batch * seq * H);
  // embedding_sum only when the node may read it (output 2; the count is unknown in some callers)
  const sum = ctx.outputCount === undefined || ctx.outputCount > 2 ? new Float32Array(y.length) : undefined;
  for (let t = 0; t < batch * seq; t++) {
    const s = t % seq;
    const w = row(ids(t), p.rows.word, 'input_ids value') * H;
    const ps = row(posIds ? posIds(p.positionIds === 'per-batch' ? t : s) : s, p.rows.position, 'position') * H;
    const g = segIds ? row(segIds(t), p.rows.segment, 'segment_ids value') * H : -1;
    const base = t * H;
    let total = 0;
    for (let j = 0; j < H; j++) {
      const v = word[w + j]! + position[ps + j]! + (g >= 0 ? segment![g + j]! : 0);
      y[base + j] = v;
      total += v;
    }
    if (sum) sum.set(y.subarray(base, base + H), base);
    const mean = total / H;
    let q = 0;
    for (let j = 0; j < H; j++) {
      const d = y[base + j]! - mean;
      q += d * d;
    }
    const inv = 1 / Math.sqrt(q / H + p.epsilon);
    for (let j = 0; j < H; j++) y[base + j] = (y[base + j]! - mean) * inv * gamma[j]! + (beta ? beta[j]! : 0);
  }
  const mask = inputs[7] ? elementReader(inputs[7]) : undefined;
  const maskIndex = new Int32Array(batch);
  if (mask) for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) if (mask(b * seq + s) === 1) maskIndex[b]!++;
  const dims = p.outs[0]!.dims;
  return [new Tensor('float32', y, dims), new Tensor('int32', maskIndex, [batch]), sum ? new Tensor('float32', sum, dims) : new Tensor('float32', new Float32Array(0), [0])];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('com.microsoft', 'EmbedLayerNormalization')]: embedLayerNorm };
