import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * Col2Im (opset 18): the inverse of im2col. Input [N, C * prod(block_shape), L] holds, for every
 * one of the L sliding-block positions, a C x block column; each value is added into the image
 * [N, C, ...image_shape] at the pixel its block offset and position land on (overlaps sum, pixels in
 * the padding are dropped). image_shape and block_shape are host inputs: they fix the output shape.
 */

export interface Col2ImLayout {
  readonly out: TensorMeta;
  readonly batch: number;
  readonly channels: number;
  readonly image: readonly number[];
  readonly block: readonly number[];
  /** number of block positions along each spatial axis */
  readonly blocks: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** padding at the start of each spatial axis */
  readonly padsBegin: readonly number[];
}

export function col2imLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): Col2ImLayout {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  const image = hostInts(ctx, 1) ?? fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im needs image_shape`);
  const block = hostInts(ctx, 2) ?? fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im needs block_shape`);
  const r = image.length;
  if (r < 1 || block.length !== r) fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im image_shape [${image.join(', ')}] and block_shape [${block.join(', ')}] must have the same length >= 1`);
  if (image.some((d) => d < 1) || block.some((d) => d < 1)) fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im image_shape [${image.join(', ')}] and block_shape [${block.join(', ')}] must be positive`);
  const strides = ctx.attrs.ints('strides', new Array<number>(r).fill(1));
  const dilations = ctx.attrs.ints('dilations', new Array<number>(r).fill(1));
  const pads = ctx.attrs.ints('pads', new Array<number>(2 * r).fill(0));
  if (strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im needs ${r} strides and dilations and ${2 * r} pads, got ${strides.length}, ${dilations.length} and ${pads.length}`);
  }
  if (strides.some((s) => s < 1) || dilations.some((d) => d < 1) || pads.some((p) => p < 0)) fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im strides and dilations must be >= 1 and pads >= 0`);
  const blocks = image.map((size, d) => Math.floor((size + pads[d]! + pads[d + r]! - (dilations[d]! * (block[d]! - 1) + 1)) / strides[d]!) + 1);
  const blockSize = product(block);
  if (x.dims.length !== 3 || x.dims[1]! % blockSize !== 0 || blocks.some((b) => b < 1) || x.dims[2] !== product(blocks)) {
    fail('INVALID_GRAPH', `node '${ctx.node}': Col2Im input dims [${x.dims.join(', ')}] do not fit [N, C * ${blockSize}, ${blocks.join(' * ')}] (block_shape [${block.join(', ')}], image_shape [${image.join(', ')}])`);
  }
  const channels = x.dims[1]! / blockSize;
  return { out: { dtype: x.dtype, dims: [x.dims[0]!, channels, ...image] }, batch: x.dims[0]!, channels, image, block, blocks, strides, dilations, padsBegin: pads.slice(0, r) };
}

/** Row-major multi-index of `flat` in `dims`. */
function unravel(flat: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let d = dims.length - 1; d >= 0; d--) {
    idx[d] = flat % dims[d]!;
    flat = Math.floor(flat / dims[d]!);
  }
  return idx;
}

const col2im: OpDefinition = {
  opType: 'Col2Im',
  hostInputs: [1, 2],
  inferOutputs: (inputs, ctx) => [col2imLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const xt = inputs[0]!;
    const L = col2imLayout([metaOf(xt), metaOf(inputs[1]!), metaOf(inputs[2]!)], ctx);
    const x = toNumbers(xt);
    const imageSize = product(L.image);
    const blockSize = product(L.block);
    const positions = product(L.blocks);
    const out = new Float64Array(L.batch * L.channels * imageSize);
    for (let n = 0; n < L.batch; n++) {
      for (let c = 0; c < L.channels; c++) {
        for (let b = 0; b < blockSize; b++) {
          const offset = unravel(b, L.block);
          for (let l = 0; l < positions; l++) {
            const position = unravel(l, L.blocks);
            // the pixel this value lands on, axis by axis; outside the image (in the padding) it is dropped
            let pixel = 0;
            let inside = true;
            L.image.forEach((size, d) => {
              const at = position[d]! * L.strides[d]! - L.padsBegin[d]! + offset[d]! * L.dilations[d]!;
              if (at < 0 || at >= size) inside = false;
              pixel = pixel * size + at;
            });
            if (inside) out[(n * L.channels + c) * imageSize + pixel]! += x[((n * L.channels + c) * blockSize + b) * positions + l]!;
          }
        }
      }
    }
    return [fromNumbers(xt.type, L.out.dims, out)];
  },
};

export const definitions: readonly OpDefinition[] = [col2im];
