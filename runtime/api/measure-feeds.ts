// The made-up inputs 'auto' times each backend on. A model's symbolic dims (dim_param: a batch, an
// image's height and width, a sequence length) need sizes the model can run: all 1 made a 1x1
// image, which a pooling window of 2 cannot cover (PaddleOCR's cls and rec failed to run on either
// backend, so 'auto' measured nothing). Sizes are tried in order until a backend runs them.
import { allocData, type DataType } from '../../core/dtype.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';

export interface MeasuredInput {
  readonly name: string;
  readonly type: DataType;
  /** numbers for fixed dims, names for symbolic ones, -1 (or any non-positive number) for unknown */
  readonly shape: readonly (number | string)[];
}

/** The size of an image's free height or width: ImageNet's, a multiple of 32 as detection backbones need. */
export const IMAGE_SIDE = 224;
/** The size of any other free dim (a sequence, a count of boxes) that is not a batch. */
export const FREE_LENGTH = 128;

const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
const channels = (d: number | string | undefined): boolean => fixed(d) && d <= 4;

/** The size a free dim at `axis` of `shape` takes in the typical shapes. */
function typicalSize(shape: readonly (number | string)[], axis: number): number {
  if (axis === 0 && shape.length >= 2) return 1; // a batch
  if (shape.length === 4) {
    if (channels(shape[1]) && axis >= 2) return IMAGE_SIDE; // NCHW
    if (channels(shape[3]) && (axis === 1 || axis === 2)) return IMAGE_SIDE; // NHWC
  }
  return FREE_LENGTH;
}

/**
 * Dims to try, in order: typical sizes (batch 1, an image's free sides IMAGE_SIDE, other free dims
 * FREE_LENGTH; a dim name shared by several inputs takes one size), then every free dim 1 (what
 * suits models whose dims mean something else). One entry when the inputs have no free dims.
 */
export function measurementDims(inputs: readonly MeasuredInput[]): readonly Readonly<Record<string, readonly number[]>>[] {
  const named = new Map<string, number>();
  const typical: Record<string, number[]> = {};
  const ones: Record<string, number[]> = {};
  for (const input of inputs) {
    typical[input.name] = input.shape.map((d, axis) => {
      if (fixed(d)) return d;
      const size = typeof d === 'string' ? (named.get(d) ?? typicalSize(input.shape, axis)) : typicalSize(input.shape, axis);
      if (typeof d === 'string') named.set(d, size);
      return size;
    });
    ones[input.name] = input.shape.map((d) => (fixed(d) ? d : 1));
  }
  const same = inputs.every((i) => typical[i.name]!.every((d, axis) => d === ones[i.name]![axis]));
  return same ? [typical] : [typical, ones];
}

/** Feeds of these dims: floats in [0, 1), integers 0 (a valid token id or index), bools false. */
export function measurementFeeds(inputs: readonly MeasuredInput[], dims: Readonly<Record<string, readonly number[]>>): Record<string, AnyTensor> {
  const feeds: Record<string, AnyTensor> = {};
  for (const input of inputs) {
    const shape = [...dims[input.name]!];
    const data = allocData(input.type, shape.reduce((a, b) => a * b, 1));
    if (data instanceof Float32Array || data instanceof Float64Array) for (let i = 0; i < data.length; i++) data[i] = Math.random();
    feeds[input.name] = new Tensor(input.type, data, shape);
  }
  return feeds;
}
