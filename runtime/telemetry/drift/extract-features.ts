// One scalar per sample from a model input or output, as a FeatureSource describes it. The same
// function runs when the reference is built (trainer, `kiln compress`) and on live traffic (the
// drift monitor), so a reference and a window can never disagree on what a feature means.
import { fail } from '../../../core/errors.ts';
import type { FeatureSource } from './drift-reference.ts';
import { elementReader, sampleCount, sampleSize, type ElementReader, type TensorView } from './tensor-values.ts';

/**
 * Image summaries read at most this many pixels per channel (a fixed low-discrepancy subset), so a
 * 224x224 frame costs the same as a 64x64 one; a mean or contrast over 4096 pixels is within ~1%
 * of the full one for natural images, far below any drift we alarm on.
 */
export const MAX_PIXELS_PER_CHANNEL = 4096;

const GOLDEN = 0.6180339887498949;
const pixelSubsets = new Map<number, Int32Array>();

/** Pixel offsets (0..pixels-1) a channel summary reads: all of them, or a golden-ratio spread. */
export function pixelSubset(pixels: number): Int32Array {
  let subset = pixelSubsets.get(pixels);
  if (subset) return subset;
  if (pixels <= MAX_PIXELS_PER_CHANNEL) {
    subset = Int32Array.from({ length: pixels }, (_, i) => i);
  } else {
    subset = new Int32Array(MAX_PIXELS_PER_CHANNEL);
    for (let i = 0; i < subset.length; i++) subset[i] = Math.floor(((i * GOLDEN) % 1) * pixels);
  }
  if (pixelSubsets.size > 16) pixelSubsets.clear(); // a few image sizes per page at most
  pixelSubsets.set(pixels, subset);
  return subset;
}

/** Image geometry of a rank-4 tensor in the given layout. */
export function imageGeometry(dims: readonly number[], layout: 'NCHW' | 'NHWC'): { channels: number; pixels: number } {
  if (dims.length !== 4) fail('INVALID_ARGUMENT', `an image feature needs a rank-4 tensor, got dims [${dims.join(', ')}]`);
  return layout === 'NCHW' ? { channels: dims[1]!, pixels: dims[2]! * dims[3]! } : { channels: dims[3]!, pixels: dims[1]! * dims[2]! };
}

/**
 * Fails with INVALID_ARGUMENT when `tensor` cannot carry the feature (a column past its width, a
 * channel it does not have, a string tensor); returns the reader and sample size featureAt needs.
 */
export function checkFeature(source: FeatureSource, tensor: TensorView): { read: ElementReader; per: number } {
  const read = elementReader(tensor) ?? fail('INVALID_ARGUMENT', `drift feature on '${source.tensor}': a ${tensor.type} tensor has no numeric values`);
  const per = sampleSize(tensor);
  switch (source.kind) {
    case 'column':
      if (source.index < 0 || source.index >= per) fail('INVALID_ARGUMENT', `drift feature '${source.tensor}[${source.index}]': samples have ${per} values`);
      break;
    case 'channel-mean':
    case 'channel-contrast': {
      const { channels } = imageGeometry(tensor.dims, source.layout);
      if (source.channel < 0 || source.channel >= channels) fail('INVALID_ARGUMENT', `drift feature on '${source.tensor}': channel ${source.channel} of ${channels}`);
      break;
    }
    case 'argmax':
    case 'max':
      if (per === 0) fail('INVALID_ARGUMENT', `drift feature on '${source.tensor}': samples are empty`);
  }
  return { read, per };
}

/** The feature's value for sample `s` of a tensor checkFeature accepted (NaN when it has none). */
export function featureAt(source: FeatureSource, tensor: TensorView, read: ElementReader, per: number, s: number): number {
  switch (source.kind) {
    case 'column':
      return read(s * per + source.index);
    case 'channel-mean':
    case 'channel-contrast': {
      const channels = source.layout === 'NCHW' ? tensor.dims[1]! : tensor.dims[3]!;
      const pixels = per / channels;
      const subset = pixelSubset(pixels);
      // NCHW: a channel is a contiguous plane; NHWC: channels interleave.
      const stride = source.layout === 'NCHW' ? 1 : channels;
      const base = s * per + (source.layout === 'NCHW' ? source.channel * pixels : source.channel);
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < subset.length; i++) {
        const v = read(base + subset[i]! * stride);
        sum += v;
        sumSq += v * v;
      }
      const mean = sum / subset.length;
      return source.kind === 'channel-mean' ? mean : Math.sqrt(Math.max(0, sumSq / subset.length - mean * mean));
    }
    case 'argmax':
    case 'max': {
      let best = -Infinity;
      let at = -1;
      for (let j = 0; j < per; j++) {
        const v = read(s * per + j);
        if (v > best) {
          best = v;
          at = j;
        }
      }
      return at < 0 ? NaN : source.kind === 'argmax' ? at : best;
    }
  }
}

/**
 * The feature's value for every sample of `tensor` (NaN where a sample has no finite value).
 * Fails with INVALID_ARGUMENT when the tensor cannot carry the feature (see checkFeature).
 */
export function extractFeature(source: FeatureSource, tensor: TensorView): Float64Array {
  const { read, per } = checkFeature(source, tensor);
  const out = new Float64Array(sampleCount(tensor));
  for (let s = 0; s < out.length; s++) out[s] = featureAt(source, tensor, read, per, s);
  return out;
}
