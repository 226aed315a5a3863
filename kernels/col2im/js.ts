import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { product } from '../common/shape.ts';
import { metaOf } from '../common/values.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { col2imLayout, definitions } from './op.ts';

// Col2Im on float32: where each (block offset, position) pair lands in the image is the same for every
// image and channel, so it is computed once (-1: in the padding) and the hot loop is one add per value.
const [reference] = definitions;

const col2im: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const xt = inputs[0]!;
  if (xt.type !== 'float32') return reference!.reference(inputs, ctx);
  const L = col2imLayout([metaOf(xt), metaOf(inputs[1]!), metaOf(inputs[2]!)], ctx);
  const r = L.image.length;
  const blockSize = product(L.block);
  const positions = product(L.blocks);
  const imageSize = product(L.image);
  const target = new Int32Array(blockSize * positions);
  const offset = new Array<number>(r).fill(0);
  for (let b = 0; b < blockSize; b++) {
    const position = new Array<number>(r).fill(0);
    for (let l = 0; l < positions; l++) {
      let pixel = 0;
      for (let d = 0; d < r && pixel >= 0; d++) {
        const at = position[d]! * L.strides[d]! - L.padsBegin[d]! + offset[d]! * L.dilations[d]!;
        pixel = at < 0 || at >= L.image[d]! ? -1 : pixel * L.image[d]! + at;
      }
      target[b * positions + l] = pixel;
      for (let d = r - 1; d >= 0 && ++position[d]! === L.blocks[d]!; d--) position[d] = 0;
    }
    for (let d = r - 1; d >= 0 && ++offset[d]! === L.block[d]!; d--) offset[d] = 0;
  }
  const x = xt.data as Float32Array;
  const out = new Float32Array(L.batch * L.channels * imageSize);
  const columns = blockSize * positions;
  for (let image = 0; image < L.batch * L.channels; image++) {
    const src = image * columns;
    const dst = image * imageSize;
    for (let i = 0; i < columns; i++) {
      const p = target[i]!;
      if (p >= 0) out[dst + p]! += x[src + i]!;
    }
  }
  return [new Tensor('float32', out, L.out.dims)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('', 'Col2Im')]: col2im };
