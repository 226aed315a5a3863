// Stand-in models with the demo's input/output contract (random weights), for working on the page
// before the trained bundles exist: `node --import tsx demo/scripts/standin-models.ts <dir>`.
// They answer, but not correctly: the real bundles come from `kiln train` (demo/models/README.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';

const rand = (n: number, scale: number, seed: number): Float32Array => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
};

/** 28x28 grey image (NCHW) -> 10 logits: Conv 5x5/2 (4 filters) -> Relu -> Flatten -> Gemm. */
export function digitStandin(seed: number): Uint8Array {
  return encodeOnnxModel({
    nodes: [
      { opType: 'Conv', inputs: ['input', 'w1', 'b1'], outputs: ['c1'], attrs: { strides: [2, 2], kernel_shape: [5, 5] } },
      { opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { opType: 'Flatten', inputs: ['r1'], outputs: ['f1'], attrs: { axis: 1 } },
      { opType: 'Gemm', inputs: ['f1', 'w2', 'b2'], outputs: ['logits'] },
    ],
    inputs: [{ name: 'input', dtype: 'float32', dims: [1, 1, 28, 28] }],
    outputs: [{ name: 'logits', dtype: 'float32', dims: [1, 10] }],
    initializers: {
      w1: new Tensor('float32', rand(4 * 25, 0.4, seed), [4, 1, 5, 5]),
      b1: new Tensor('float32', rand(4, 0.1, seed + 1), [4]),
      w2: new Tensor('float32', rand(576 * 10, 0.1, seed + 2), [576, 10]),
      b2: new Tensor('float32', rand(10, 0.1, seed + 3), [10]),
    },
  });
}

/** 4 features -> 3 class probabilities. */
export function tabularStandin(seed: number): Uint8Array {
  return encodeOnnxModel({
    nodes: [
      { opType: 'Gemm', inputs: ['input', 'w', 'b'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
    ],
    inputs: [{ name: 'input', dtype: 'float32', dims: [1, 4] }],
    outputs: [{ name: 'probabilities', dtype: 'float32', dims: [1, 3] }],
    initializers: { w: new Tensor('float32', rand(12, 1, seed), [4, 3]), b: new Tensor('float32', rand(3, 0.1, seed + 1), [3]) },
  });
}

if (process.argv[1]?.endsWith('standin-models.ts')) {
  const dir = process.argv[2] ?? 'scratch/demo-models';
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mnist-cnn-int8.onnx'), digitStandin(1));
  writeFileSync(join(dir, 'mnist-cnn-int4.onnx'), digitStandin(2));
  writeFileSync(join(dir, 'iris-mlp-int8.onnx'), tabularStandin(3));
  console.log(`stand-in models written to ${dir}`);
}
