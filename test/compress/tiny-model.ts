// A small float classifier for `kiln compress` tests, in the node patterns of exported CNNs:
// Conv -> BatchNormalization -> Relu, strided Conv -> Clip, GlobalAveragePool, MatMul + Add, Gemm
// (transB = 1), Softmax; opset 11 so the compressor has to raise it. Random weights, fresh per call.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { writeNpy } from '../../trainer-node/common/npy.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const rnd = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
const t = (data: Float32Array, dims: number[]): AnyTensor => new Tensor('float32', data, dims);

export const TINY_INPUT = [3, 12, 12] as const;

export function tinyModel(): WriterModel {
  const inits = new Map<string, AnyTensor>([
    ['c1_w', t(rnd(32 * 3 * 9, 0.4), [32, 3, 3, 3])],
    ['c1_b', t(rnd(32, 0.1), [32])],
    ['bn_scale', t(Float32Array.from({ length: 32 }, () => 0.5 + rng.uniform()), [32])],
    ['bn_bias', t(rnd(32, 0.2), [32])],
    ['bn_mean', t(rnd(32, 0.2), [32])],
    ['bn_var', t(Float32Array.from({ length: 32 }, () => 0.5 + rng.uniform()), [32])],
    ['c2_w', t(rnd(16 * 32 * 9, 0.15), [16, 32, 3, 3])],
    ['clip_min', t(new Float32Array([0]), [])],
    ['clip_max', t(new Float32Array([6]), [])],
    ['mm_w', t(rnd(16 * 40, 0.4), [16, 40])],
    ['mm_b', t(rnd(40, 0.1), [40])],
    ['fc_w', t(rnd(5 * 40, 0.4), [5, 40])],
    ['fc_b', t(rnd(5, 0.1), [5])],
  ]);
  return {
    nodes: [
      { opType: 'Conv', name: 'c1', inputs: ['x', 'c1_w', 'c1_b'], outputs: ['c1_y'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { opType: 'BatchNormalization', name: 'bn', inputs: ['c1_y', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'], outputs: ['bn_y'], attrs: { epsilon: { float: 1e-5 } } },
      { opType: 'Relu', name: 'relu1', inputs: ['bn_y'], outputs: ['r1'] },
      { opType: 'Conv', name: 'c2', inputs: ['r1', 'c2_w'], outputs: ['c2_y'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
      { opType: 'Clip', name: 'clip', inputs: ['c2_y', 'clip_min', 'clip_max'], outputs: ['r2'] },
      { opType: 'GlobalAveragePool', name: 'gap', inputs: ['r2'], outputs: ['g'] },
      { opType: 'Flatten', name: 'flat', inputs: ['g'], outputs: ['f'] },
      { opType: 'MatMul', name: 'mm', inputs: ['f', 'mm_w'], outputs: ['mm_y'] },
      { opType: 'Add', name: 'mm_add', inputs: ['mm_y', 'mm_b'], outputs: ['h'] },
      { opType: 'Relu', name: 'relu3', inputs: ['h'], outputs: ['h3'] },
      { opType: 'Gemm', name: 'fc', inputs: ['h3', 'fc_w', 'fc_b'], outputs: ['logits'], attrs: { transB: 1 } },
      { opType: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: ['y'], attrs: { axis: 1 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: ['N', ...TINY_INPUT] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['N', 5] }],
    initializers: inits,
    opsets: { '': 11 },
  };
}

/** Writes the model and a calibration folder (x.npy with `samples` stacked inputs); returns paths. */
export function tinyWorkspace(samples = 12, model: WriterModel = tinyModel()): { dir: string; model: string; calib: string; modelBytes: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-compress-'));
  const modelBytes = encodeOnnxModel(model);
  writeFileSync(join(dir, 'model.onnx'), modelBytes);
  const calib = join(dir, 'calib');
  const n = samples * TINY_INPUT.reduce((a, b) => a * b, 1);
  // image-like: a smooth positive ramp plus noise, not centred (a real input distribution is not)
  const x = Float32Array.from({ length: n }, (_, i) => ((i % 12) / 12) + rng.uniform() * 0.5);
  mkdirSync(calib);
  writeFileSync(join(calib, 'x.npy'), writeNpy(new Tensor('float32', x, [samples, ...TINY_INPUT])));
  return { dir, model: join(dir, 'model.onnx'), calib, modelBytes };
}
