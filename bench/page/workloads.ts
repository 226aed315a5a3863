// Benchmark workloads as ONNX models built in the page, so every runtime gets the same bytes.
import { Tensor } from '../../runtime/api/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';

export interface Workload {
  readonly name: string;
  readonly model: Uint8Array;
  readonly inputName: string;
  readonly inputDims: readonly number[];
  /** floating-point operations per run, for GFLOP/s */
  readonly flops: number;
}

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

export function matmulWorkload(n: number): Workload {
  const model = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [n, n] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [n, n] }],
    initializers: { b: new Tensor('float32', random(n * n), [n, n]) },
  });
  return { name: `matmul-${n}`, model, inputName: 'a', inputDims: [n, n], flops: 2 * n * n * n };
}

/** One 3x3 convolution layer, as in a ResNet stage: cin -> cout channels on size x size pixels. */
export function convWorkload(cin: number, cout: number, size: number): Workload {
  const model = encodeOnnxModel({
    nodes: [{ opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, cin, size, size] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, cout, size, size] }],
    initializers: {
      w: new Tensor('float32', random(cout * cin * 9).map((v) => v * 0.1), [cout, cin, 3, 3]),
      b: new Tensor('float32', random(cout), [cout]),
    },
  });
  return { name: `conv3x3-${cin}x${cout}-${size}`, model, inputName: 'x', inputDims: [1, cin, size, size], flops: 2 * cout * cin * 9 * size * size };
}

export function microWorkloads(quick: boolean): Workload[] {
  return quick ? [matmulWorkload(256), convWorkload(16, 16, 28)] : [matmulWorkload(256), matmulWorkload(512), matmulWorkload(1024), convWorkload(64, 64, 56)];
}

export function randomInput(w: Workload): Float32Array {
  return random(w.inputDims.reduce((a, b) => a * b, 1));
}
