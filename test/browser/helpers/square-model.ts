import { Tensor } from '../../../core/tensor.ts';
import { encodeOnnxModel } from '../../../runtime/format/onnx/onnx-writer.ts';

/** y = x * x + bias, with a symbolic batch dimension (shared by the browser tests). */
export const squareModel = encodeOnnxModel({
  nodes: [
    { opType: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
    { opType: 'Add', inputs: ['sq', 'bias'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', 3] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
  initializers: { bias: new Tensor('float32', [0.5, -1, 2], [3]) },
});
export const squareInput = [1, 2, 3, -4, 0.25, 6];
