// Raw values (pixels, measurements) to model input values, as the bundle's input spec says.
import type { InputSpec, Preprocessing } from '../../../runtime/format/kiln/bundle-spec.ts';
import { Tensor } from '../../../runtime/worker/browser-entry.ts';
import type { InputMetadata } from '../../../runtime/worker/browser-entry.ts';

export function preprocess(raw: Float32Array, p: Preprocessing | undefined): Float32Array {
  if (!p || p.kind === 'none') return raw;
  if (p.kind === 'affine') return raw.map((v) => v * p.scale + p.offset);
  const n = p.mean.length;
  return raw.map((v, i) => (v - p.mean[i % n]!) / (p.std[i % n]! || 1));
}

/** The raw value whose preprocessed value is `t` (for slider ranges given in model units). */
export function unpreprocess(t: number, index: number, p: Preprocessing | undefined): number {
  if (!p || p.kind === 'none') return t;
  if (p.kind === 'affine') return (t - p.offset) / p.scale;
  const n = p.mean.length;
  return t * (p.std[index % n]! || 1) + p.mean[index % n]!;
}

/** A batch-of-one float tensor for the model's first input: free dims become 1. */
export function inputTensor(meta: InputMetadata, values: Float32Array): Tensor<'float32'> {
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new Error(`${meta.name} takes ${size} values (${dims.join('x')}), the page has ${values.length}`);
  return new Tensor('float32', values, dims);
}

export function inputSpecOf(specs: readonly InputSpec[] | undefined, name: string): InputSpec | undefined {
  return specs?.find((s) => s.name === name) ?? specs?.[0];
}
