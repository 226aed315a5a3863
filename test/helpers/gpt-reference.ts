// What generate()'s tests compare each decode step with: onnxruntime-web or Kiln over the whole
// sequence (every past empty, so no cache is involved), and the difference measure their tolerances use.
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import type { InferenceSession } from '../../runtime/node.ts';
import { emptyPastDims, type TinyGptConfig } from './tiny-gpt.ts';

/** onnxruntime-web over the whole sequence (no past): the last position's logits. */
export async function ortFullLogits(theirs: ort.InferenceSession, config: TinyGptConfig, sequence: readonly number[]): Promise<Float32Array> {
  const n = sequence.length;
  const i64 = (v: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64([...sequence]), attention_mask: i64(Array(n).fill(1)), position_ids: i64(Array.from({ length: n }, (_, i) => i)) };
  for (const { name, dims } of emptyPastDims(config)) feeds[name] = new ort.Tensor('float32', new Float32Array(0), dims);
  const l = (await theirs.run(feeds)).logits!.data as Float32Array;
  return l.slice(l.length - config.vocab);
}

/** A Kiln session over the whole sequence (every past empty, GQA's half as many K/V heads, stacked or not): the last position's logits. */
export async function kilnFullLogits(s: InferenceSession, config: TinyGptConfig, sequence: readonly number[]): Promise<Float32Array> {
  const n = sequence.length;
  const i64 = (v: readonly number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [1, v.length]);
  const feeds: Record<string, Tensor<'int64'> | Tensor<'float32'>> = { input_ids: i64(sequence), attention_mask: i64(Array(n).fill(1)), position_ids: i64(Array.from({ length: n }, (_, i) => i)) };
  for (const { name, dims } of emptyPastDims(config)) feeds[name] = new Tensor('float32', new Float32Array(0), dims);
  const l = (await s.run(feeds, ['logits'])).logits!.data as Float32Array;
  return l.slice(l.length - config.vocab);
}

/** The largest |a - b| / (1 + |b|): relative for large logits, absolute near zero. */
export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}
