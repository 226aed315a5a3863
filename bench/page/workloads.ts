// Microbenchmarks as ONNX models built in the page (every ONNX runtime gets the same bytes) and
// the same computation in TF.js with the same weights.
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { hashString, RUN_SEED, seededRandom, uniform } from './seeded.ts';
import type { Tf, TfModel, Workload } from './workload.ts';

/** Workload inputs: fresh per bench run (RUN_SEED), identical for every runtime and variant. */
export function workloadInput(w: Workload, batch: number): Float32Array {
  const dims = w.inputDims(batch);
  const n = dims.reduce((a, b) => a * b, 1);
  const [lo, hi] = w.inputRange ?? [-1, 1];
  const rand = seededRandom(RUN_SEED ^ hashString(`${w.inputKey}/${batch}`));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rand() * (hi - lo);
  return out;
}

export function matmulWorkload(n: number): Workload {
  const b = uniform(seededRandom(hashString(`matmul-${n}`)), n * n);
  const model = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [n, n] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [n, n] }],
    initializers: { b: new Tensor('float32', b, [n, n]) },
  });
  const tfjs = (tf: Tf): TfModel => {
    const bt = tf.tensor2d(b, [n, n]);
    return { run: (t, x) => t.matMul(x as Parameters<Tf['matMul']>[0], bt), dispose: () => bt.dispose() };
  };
  return { name: `matmul-${n}`, kind: 'micro', onnx: { bytes: model }, inputName: 'a', inputDims: () => [n, n], batchable: false, flops: 2 * n * n * n, inputKey: `matmul-${n}`, tfjs };
}

/** NCHW <-> NHWC for one image batch, on the host (outside the timed runs). */
export function nchwToNhwc(x: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let i = 0; i < h! * w!; i++) out[(b * h! * w! + i) * c! + ch] = x[(b * c! + ch) * h! * w! + i]!;
  return out;
}

export function nhwcToNchw(x: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let i = 0; i < h! * w!; i++) out[(b * c! + ch) * h! * w! + i] = x[(b * h! * w! + i) * c! + ch]!;
  return out;
}

/** One 3x3 convolution layer with bias, as in a ResNet stage: cin -> cout channels on size x size pixels. */
export function convWorkload(cin: number, cout: number, size: number): Workload {
  const name = `conv3x3-${cin}x${cout}-${size}`;
  const rand = seededRandom(hashString(name));
  const w = uniform(rand, cout * cin * 9, 0.1);
  const bias = uniform(rand, cout);
  const model = encodeOnnxModel({
    nodes: [{ opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, cin, size, size] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, cout, size, size] }],
    initializers: { w: new Tensor('float32', w, [cout, cin, 3, 3]), b: new Tensor('float32', bias, [cout]) },
  });
  // TF.js's native layout is NHWC with HWIO filters; its NCHW conv is a transpose around NHWC.
  const tfjs = (tf: Tf): TfModel => {
    const hwio = new Float32Array(w.length);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let k = 0; k < 9; k++) hwio[(k * cin + i) * cout + o] = w[(o * cin + i) * 9 + k]!;
    const filter = tf.tensor4d(hwio, [3, 3, cin, cout]);
    const b = tf.tensor1d(bias);
    return {
      run: (t, x) => t.add(t.conv2d(x as Parameters<Tf['conv2d']>[0], filter, 1, 'same'), b),
      dispose: () => tf.dispose([filter, b]),
      toTfInput: (x, dims) => ({ data: nchwToNhwc(x, dims), dims: [dims[0]!, dims[2]!, dims[3]!, dims[1]!] }),
      fromTfOutput: (y) => nhwcToNchw(y, [1, size, size, cout]),
    };
  };
  return { name, kind: 'micro', onnx: { bytes: model }, inputName: 'x', inputDims: () => [1, cin, size, size], batchable: false, flops: 2 * cout * cin * 9 * size * size, inputKey: name, tfjs };
}

export function microWorkloads(quick: boolean): Workload[] {
  return quick ? [matmulWorkload(128), convWorkload(8, 8, 16)] : [matmulWorkload(256), matmulWorkload(512), matmulWorkload(1024), convWorkload(64, 64, 56)];
}
