// One QDQ Conv (and a QDQ Gemm) built so that requantization lands exactly on or next to halves
// often: scales of 1/3 (inexact in float32) and integer-valued sums make x * w / y hit k + 0.5
// up to float32 rounding. A float32 lowering (dequantize, f32 conv, quantize) then rounds those the
// other way from onnxruntime's integer kernel, which a random model almost never shows.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { createRng } from '../../trainer-node/data/rng.ts';

export const TIE_C = 64, TIE_H = 16, TIE_CO = 32;
export const TIE_Y_SCALE = Math.fround((2 / 9) * 64);


export type TieOp = 'Conv' | 'ConvRelu' | 'Gemm' | 'MatMul' | 'Add' | 'Mul' | 'GlobalAveragePool';

export function tieModel(op: TieOp, seed: number): { model: Uint8Array; dims: number[]; input: Float32Array; step: number } {
  const rng = createRng(seed);
  const third = Math.fround(1 / 3);
  const inits: Record<string, AnyTensor> = {
    xs: new Tensor('float32', Float32Array.of(third), []),
    xz: new Tensor('uint8', Uint8Array.of(0), []),
    ws: new Tensor('float32', new Float32Array(TIE_CO).fill(third), [TIE_CO]),
    ys: new Tensor('float32', Float32Array.of(TIE_Y_SCALE), []),
    yz: new Tensor('uint8', Uint8Array.of(128), []),
    bq: new Tensor('int32', Int32Array.from({ length: TIE_CO }, () => Math.floor(rng() * 64) - 32), [TIE_CO]),
    bs: new Tensor('float32', new Float32Array(TIE_CO).fill(Math.fround(third * third)), [TIE_CO]),
    // PyTorch's Conv + ReLU export: Relu between the Conv and a QuantizeLinear of zero point 0
    ...(op === 'ConvRelu' ? { yz: new Tensor('uint8', Uint8Array.of(0), []) } : {}),
    wq: op === 'MatMul'
      ? new Tensor('int8', Int8Array.from({ length: TIE_CO * TIE_C }, () => Math.floor(rng() * 9) - 4), [TIE_C, TIE_CO])
      : op === 'Conv' || op === 'ConvRelu'
      ? new Tensor('int8', Int8Array.from({ length: TIE_CO * TIE_C * 9 }, () => Math.floor(rng() * 9) - 4), [TIE_CO, TIE_C, 3, 3])
      : new Tensor('int8', Int8Array.from({ length: TIE_CO * TIE_C }, () => Math.floor(rng() * 9) - 4), [TIE_CO, TIE_C]),
  };
  const dims = op === 'Conv' || op === 'ConvRelu' || op === 'GlobalAveragePool' ? [1, TIE_C, TIE_H, TIE_H] : [TIE_H * TIE_H, TIE_C];
  // Add / Mul: x with itself reversed through a second Q -> DQ of another scale (2/3)
  inits.x2s = new Tensor('float32', Float32Array.of(Math.fround(2 / 3)), []);
  const layer: WriterNode = op === 'Conv'
    ? { opType: 'Conv', inputs: ['xd', 'wd', 'bd'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }
    : op === 'ConvRelu' ? { opType: 'Conv', inputs: ['xd', 'wd', 'bd'], outputs: ['y_pre'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }
    : op === 'Gemm' ? { opType: 'Gemm', inputs: ['xd', 'wd', 'bd'], outputs: ['y'], attrs: { transB: 1 } }
    : op === 'MatMul' ? { opType: 'MatMul', inputs: ['xd', 'wd'], outputs: ['y'] }
    : op === 'GlobalAveragePool' ? { opType: 'GlobalAveragePool', inputs: ['xd'], outputs: ['y'] }
    : { opType: op, inputs: ['xd', 'x2d'], outputs: ['y'] };
  if (op === 'Add' || op === 'Mul' || op === 'GlobalAveragePool') inits.ys = new Tensor('float32', Float32Array.of(Math.fround(op === 'Mul' ? 4 / 27 : op === 'GlobalAveragePool' ? 2 / (3 * TIE_H * TIE_H) : 2 / 9)), []);
  const nodes: WriterNode[] = [
    { opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
    { opType: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
    { opType: 'QuantizeLinear', inputs: ['x', 'x2s', 'xz'], outputs: ['x2q'] },
    { opType: 'DequantizeLinear', inputs: ['x2q', 'x2s', 'xz'], outputs: ['x2d'] },
    { opType: 'DequantizeLinear', inputs: ['wq', 'ws'], outputs: ['wd'], attrs: { axis: op === 'MatMul' ? 1 : 0 } },
    { opType: 'DequantizeLinear', inputs: ['bq', 'bs'], outputs: ['bd'], attrs: { axis: 0 } },
    layer,
    ...(op === 'ConvRelu' ? [{ opType: 'Relu', inputs: ['y_pre'], outputs: ['y'] }] : []),
    { opType: 'QuantizeLinear', inputs: ['y', 'ys', 'yz'], outputs: ['yq'] },
    { opType: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['out'] },
  ];
  const model = encodeOnnxModel({ nodes, inputs: [{ name: 'x', dtype: 'float32', dims }], outputs: [{ name: 'out', dtype: 'float32' }], initializers: inits, opsets: { '': 17 } });
  // integer multiples of the input scale, so x quantizes exactly
  const input = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.fround(Math.floor(rng() * 8) * third));
  return { model, dims, input, step: (inits.ys!.data as Float32Array)[0]! };
}
