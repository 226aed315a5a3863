// A QDQ MatMul (a classifier head as quantizers export it): Q/DQ on x, an int8 weight quantized
// per column (DQ axis 1), Q/DQ on y. The QDQ passes lower it to QLinearMatMul; tests compare fused
// with unfused runs and benches time it against its float twin.
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';

export interface QdqMatMulScales {
  /** x's and y's uint8 quantization: scale and zero point */
  readonly x: readonly [scale: number, zero: number];
  readonly y: readonly [scale: number, zero: number];
}

/**
 * ONNX bytes of x [M, K] -> QDQ(MatMul(QDQ(x), DQ(int8 W per column))) -> y [M, N]; `w` is the float W [K, N].
 * With `bias` [N], y = that + bias (an Add after the DequantizeLinear, as quantizers leave a head's bias).
 */
export function qdqMatMulModel(w: Float32Array, M: number, K: number, N: number, q: QdqMatMulScales, bias?: Float32Array): Uint8Array {
  // symmetric per-column weight scale: the column's largest magnitude maps to 127
  const ws = Float32Array.from({ length: N }, (_, n) => Math.max(1e-3, ...Array.from({ length: K }, (_, k) => Math.abs(w[k * N + n]!))) / 127);
  const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const zero = (v: number): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.of(v), []);
  return encodeOnnxModel({
    nodes: [
      { opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { opType: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
      { opType: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['wd'], attrs: { axis: 1 } },
      { opType: 'MatMul', inputs: ['xd', 'wd'], outputs: ['y0'] },
      { opType: 'QuantizeLinear', inputs: ['y0', 'ys', 'yz'], outputs: ['yq'] },
      { opType: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: [bias ? 'yd' : 'y'] },
      ...(bias ? [{ opType: 'Add', inputs: ['yd', 'bias'], outputs: ['y'] }] : []),
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      xs: scalar(q.x[0]), xz: zero(q.x[1]), ys: scalar(q.y[0]), yz: zero(q.y[1]),
      ...(bias ? { bias: new Tensor('float32', bias, [N]) } : {}),
      wq: new Tensor('int8', Int8Array.from(w, (v, i) => Math.round(v / ws[i % N]!)), [K, N]), ws: new Tensor('float32', ws, [N]), wz: new Tensor('int8', new Int8Array(N), [N]),
    },
    opsets: { '': 13 },
  });
}
