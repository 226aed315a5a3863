// The ai.onnx ops added for transformer and audio exports (CumSum, Trilu, ScatterND, ...), each run
// by onnxruntime-web and by every Kiln backend on the same seeded inputs: Kiln must give its answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors, type Tolerance } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor, type InputSpec } from './op-harness.ts';

ort.env.wasm.numThreads = 1;

interface ParityCase {
  readonly op: string;
  readonly opset?: number;
  readonly attrs?: Readonly<Record<string, WriterAttribute>>;
  /** every input is fed at run time (none folds at plan time); `values` fixes one */
  readonly inputs: readonly (InputSpec | 'omit')[];
  readonly outputs?: number;
  /** declared output types (onnxruntime checks them); default: the first input's */
  readonly outputTypes?: readonly DataType[];
  readonly tolerance?: Tolerance;
}

const ORT_TYPES: Partial<Record<DataType, ort.Tensor.Type>> = { float32: 'float32', int32: 'int32', int64: 'int64', bool: 'bool', float64: 'float64' };

function toOrt(t: AnyTensor): ort.Tensor {
  const type = ORT_TYPES[t.type];
  assert.ok(type, `no onnxruntime-web tensor type for ${t.type}`);
  return new ort.Tensor(type, t.data as Float32Array, [...t.dims]);
}

function fromOrt(t: ort.Tensor): AnyTensor {
  const type = Object.entries(ORT_TYPES).find(([, v]) => v === t.type)?.[0] as DataType | undefined;
  assert.ok(type, `unexpected onnxruntime-web output type ${t.type}`);
  return new Tensor(type, t.data as Float32Array, t.dims);
}

export async function matchesOrt(name: string, c: ParityCase): Promise<void> {
  const rng = testRng(import.meta.url, name);
  const feeds: Record<string, AnyTensor> = {};
  const names = c.inputs.map((spec, i) => {
    if (spec === 'omit') return '';
    feeds[`in${i}`] = randomTensor(spec, rng);
    return `in${i}`;
  });
  const outs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `out${i}`);
  const bytes = encodeOnnxModel({
    nodes: [{ opType: c.op, inputs: names, outputs: outs, attrs: c.attrs ?? {} }],
    inputs: Object.entries(feeds).map(([n, t]) => ({ name: n, dtype: t.type, dims: t.dims })),
    outputs: outs.map((n, i) => ({ name: n, dtype: c.outputTypes?.[i] ?? Object.values(feeds)[0]!.type })),
    initializers: {},
    opsets: { '': c.opset ?? 18 },
  });
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = await theirs.run(Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toOrt(t)])));
  await theirs.release();
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = await s.run(feeds);
      for (const out of outs) {
        const problem = compareTensors(got[out]!, fromOrt(want[out]!), c.tolerance ?? { rtol: 1e-5, atol: 1e-5 });
        assert.equal(problem, undefined, `${name} ${out} on ${provider} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
}

const scalar = (dtype: DataType, v: number): InputSpec => ({ dtype, dims: [], values: [v] });
const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });

test('CumSum matches onnxruntime-web over axis, exclusive, reverse and types', async () => {
  for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    await matchesOrt(`cumsum e${exclusive} r${reverse}`, { op: 'CumSum', attrs: { exclusive, reverse }, inputs: [f32([3, 5, 4]), scalar('int64', -2)] });
  }
  await matchesOrt('cumsum int32 axis 0', { op: 'CumSum', inputs: [{ dtype: 'int32', dims: [6, 3] }, scalar('int32', 0)] });
  await matchesOrt('cumsum int64 axis 1', { op: 'CumSum', attrs: { reverse: 1 }, inputs: [{ dtype: 'int64', dims: [2, 9] }, scalar('int64', 1)] });
});

test('Trilu matches onnxruntime-web for upper and lower and k', async () => {
  for (const upper of [0, 1]) {
    for (const k of [-2, 0, 3]) await matchesOrt(`trilu upper ${upper} k ${k}`, { op: 'Trilu', attrs: { upper }, inputs: [f32([2, 5, 6]), scalar('int64', k)] });
  }
  await matchesOrt('trilu no k', { op: 'Trilu', inputs: [{ dtype: 'int64', dims: [4, 3] }] });
});

test('ScatterND and ScatterElements match onnxruntime-web for every reduction, duplicates and negative indices included', async () => {
  const ints = (dims: number[], values: number[]): InputSpec => ({ dtype: 'int64', dims, values });
  for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
    // onnxruntime applies duplicate indices in order for every reduction but 'none', where duplicates are undefined: keep them unique there
    const ndIdx = reduction === 'none' ? ints([3, 1], [0, -1, 2]) : ints([4, 1], [0, -1, 0, 2]);
    const n = ndIdx.dims[0]!;
    await matchesOrt(`scatternd ${reduction}`, { op: 'ScatterND', attrs: { reduction }, inputs: [f32([5, 4]), ndIdx, f32([n, 4])] });
    const elIdx = reduction === 'none' ? ints([2, 3], [0, -1, 2, 3, 1, -3]) : { dtype: 'int64' as const, dims: [3, 5], range: [-4, 4] as const };
    const dims = [...elIdx.dims];
    await matchesOrt(`scatterelements ${reduction}`, { op: 'ScatterElements', attrs: { axis: 1, reduction }, inputs: [f32([3, 4]), elIdx, f32(dims)] });
  }
});

test('Einsum matches onnxruntime-web: contractions, transposes, diagonals, sums, ellipsis', async () => {
  const es = (equation: string, ...shapes: number[][]): Promise<void> =>
    matchesOrt(`einsum ${equation}`, { op: 'Einsum', opset: 12, attrs: { equation }, inputs: shapes.map((s) => f32(s)), tolerance: { rtol: 1e-5, atol: 1e-4 } });
  await es('bij,bjk->bik', [2, 3, 5], [2, 5, 4]);
  await es('bhqd,bhkd->bhqk', [1, 2, 5, 8], [1, 2, 6, 8]);
  await es('ij,jk', [3, 4], [4, 5]);
  await es('ba', [3, 5]);
  await es('ii->i', [4, 4]);
  await es('ii', [5, 5]);
  await es('...ii->...i', [2, 3, 3]);
  await es('ij->', [3, 7]);
  await es('i,j->ij', [3], [4]);
  await es('...ij,...jk->...ik', [2, 3, 4], [2, 4, 3]);
  await es('ij,jk,kl->il', [2, 3], [3, 4], [4, 2]);
  await matchesOrt('einsum int32', { op: 'Einsum', opset: 12, attrs: { equation: 'ij,jk->ik' }, inputs: [{ dtype: 'int32', dims: [3, 4] }, { dtype: 'int32', dims: [4, 2] }] });
});

test('DFT, STFT, the windows and MelWeightMatrix match onnxruntime-web', async () => {
  const spectral = { rtol: 1e-4, atol: 2e-4 };
  const none = 'omit' as const;
  await matchesOrt('dft real opset 17', { op: 'DFT', opset: 17, inputs: [f32([2, 12, 1])], tolerance: spectral });
  await matchesOrt('dft complex axis 2 opset 17', { op: 'DFT', opset: 17, attrs: { axis: 2 }, inputs: [f32([2, 3, 10, 2])], tolerance: spectral });
  await matchesOrt('dft inverse opset 17', { op: 'DFT', opset: 17, attrs: { inverse: 1 }, inputs: [f32([3, 8, 2])], tolerance: spectral });
  await matchesOrt('dft onesided dft_length opset 17', { op: 'DFT', opset: 17, attrs: { onesided: 1 }, inputs: [f32([2, 9, 1]), scalar('int64', 12)], tolerance: spectral });
  await matchesOrt('dft opset 20 axis input', { op: 'DFT', opset: 20, inputs: [f32([2, 7, 3, 2]), none, scalar('int64', 1)], tolerance: spectral });
  await matchesOrt('dft irfft opset 20', { op: 'DFT', opset: 20, attrs: { inverse: 1, onesided: 1 }, inputs: [f32([2, 6, 2])], tolerance: spectral });
  await matchesOrt('stft window onesided', { op: 'STFT', opset: 17, inputs: [f32([2, 64, 1]), scalar('int64', 8), f32([16])], tolerance: spectral });
  await matchesOrt('stft frame_length', { op: 'STFT', opset: 17, attrs: { onesided: 0 }, inputs: [f32([1, 40, 1]), scalar('int64', 5), none, scalar('int64', 10)], tolerance: spectral });
  for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
    for (const periodic of [0, 1]) await matchesOrt(`${op} periodic ${periodic}`, { op, opset: 17, attrs: { periodic }, inputs: [scalar('int64', 11)], outputTypes: ['float32'], tolerance: { rtol: 1e-5, atol: 1e-6 } });
  }
  await matchesOrt('melweightmatrix', {
    op: 'MelWeightMatrix',
    opset: 17,
    inputs: [scalar('int64', 10), scalar('int64', 64), scalar('int64', 16000), { dtype: 'float32', dims: [], values: [20] }, { dtype: 'float32', dims: [], values: [7600] }],
    outputTypes: ['float32'],
  });
});

test('TopK matches onnxruntime-web: largest and smallest, any axis, ties in index order', async () => {
  const kk = (v: number): InputSpec => ({ dtype: 'int64', dims: [1], values: [v] });
  const both: readonly DataType[] = ['float32', 'int64'];
  for (const largest of [1, 0]) {
    await matchesOrt(`topk largest ${largest}`, { op: 'TopK', attrs: { largest, axis: 1 }, inputs: [f32([3, 17, 2]), kk(5)], outputs: 2, outputTypes: both });
    await matchesOrt(`topk ties largest ${largest}`, { op: 'TopK', attrs: { largest }, inputs: [{ dtype: 'int32', dims: [4, 12], range: [0, 3] }, kk(7)], outputs: 2, outputTypes: ['int32', 'int64'] });
  }
  await matchesOrt('topk long row', { op: 'TopK', inputs: [f32([1, 3000]), kk(50)], outputs: 2, outputTypes: both });
});

test('OneHot matches onnxruntime-web, negative and out-of-range indices included', async () => {
  const onOff: InputSpec = { dtype: 'float32', dims: [2], values: [0.25, 2] };
  for (const axis of [-1, 0, 1]) {
    await matchesOrt(`onehot axis ${axis}`, { op: 'OneHot', attrs: { axis }, inputs: [{ dtype: 'int64', dims: [3, 4], range: [-9, 9] }, { dtype: 'int64', dims: [], values: [6] }, onOff], outputTypes: ['float32'] });
  }
});

test('Shrink matches onnxruntime-web, hard and soft', async () => {
  await matchesOrt('shrink hard', { op: 'Shrink', inputs: [{ dtype: 'float32', dims: [5, 9], range: [-2, 2] }] });
  await matchesOrt('shrink soft', { op: 'Shrink', attrs: { lambd: { float: 0.75 }, bias: { float: 0.75 } }, inputs: [{ dtype: 'float32', dims: [5, 9], range: [-2, 2] }] });
});

test('NonZero, Compress and Unique match onnxruntime-web', async () => {
  await matchesOrt('nonzero', { op: 'NonZero', inputs: [{ dtype: 'int32', dims: [3, 5], range: [-1, 2] }], outputTypes: ['int64'] });
  await matchesOrt('compress axis 1', { op: 'Compress', attrs: { axis: 1 }, inputs: [f32([2, 5, 3]), { dtype: 'bool', dims: [5], values: [1, 0, 1, 1, 0] }] });
  await matchesOrt('compress flat', { op: 'Compress', inputs: [f32([3, 3]), { dtype: 'bool', dims: [6], values: [0, 1, 1, 0, 0, 1] }] });
  const uniqueTypes: readonly DataType[] = ['float32', 'int64', 'int64', 'int64'];
  const x: InputSpec = { dtype: 'float32', dims: [4, 3], values: [2, 1, 2, 0, 1, 0, 2, 1, 2, 3, 3, 1] };
  await matchesOrt('unique sorted', { op: 'Unique', inputs: [x], outputs: 4, outputTypes: uniqueTypes });
  await matchesOrt('unique unsorted', { op: 'Unique', attrs: { sorted: 0 }, inputs: [x], outputs: 4, outputTypes: uniqueTypes });
  await matchesOrt('unique rows', { op: 'Unique', attrs: { axis: 0 }, inputs: [x], outputs: 4, outputTypes: uniqueTypes });
});

test('GridSample matches onnxruntime-web: every mode, padding mode and align_corners, 2-D and 3-D', async () => {
  const grid = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-1.4, 1.4] });
  for (const mode of ['bilinear', 'nearest', 'bicubic']) {
    for (const padding_mode of ['zeros', 'border', 'reflection']) {
      for (const align_corners of [0, 1]) {
        await matchesOrt(`gridsample ${mode} ${padding_mode} ${align_corners}`, { op: 'GridSample', opset: 16, attrs: { mode, padding_mode, align_corners }, inputs: [f32([2, 3, 5, 6]), grid(2, 4, 3, 2)], tolerance: { rtol: 1e-4, atol: 1e-4 } });
      }
    }
  }
  await matchesOrt('gridsample 3-D linear', { op: 'GridSample', opset: 20, attrs: { padding_mode: 'border' }, inputs: [f32([1, 2, 3, 4, 5]), grid(1, 2, 3, 2, 3)], tolerance: { rtol: 1e-4, atol: 1e-4 } });
});

test('LRN and MeanVarianceNormalization match onnxruntime-web', async () => {
  await matchesOrt('lrn size 3', { op: 'LRN', attrs: { size: 3 }, inputs: [f32([2, 7, 3, 4])] });
  await matchesOrt('lrn size 5 (onnxruntime takes odd sizes only)', { op: 'LRN', attrs: { size: 5, alpha: { float: 0.5 }, beta: { float: 0.6 }, bias: { float: 2 } }, inputs: [f32([1, 6, 5, 5])] });
  await matchesOrt('mvn default axes', { op: 'MeanVarianceNormalization', inputs: [f32([2, 3, 4, 5])], tolerance: { rtol: 1e-4, atol: 1e-5 } });
  await matchesOrt('mvn axes', { op: 'MeanVarianceNormalization', attrs: { axes: [1, 2] }, inputs: [f32([2, 3, 4])], tolerance: { rtol: 1e-4, atol: 1e-5 } });
});

test('NonMaxSuppression matches onnxruntime-web on random overlapping boxes', async () => {
  const boxes = (b: number, n: number): InputSpec => ({ dtype: 'float32', dims: [b, n, 4], range: [0, 1] });
  const scores = (b: number, c: number, n: number): InputSpec => ({ dtype: 'float32', dims: [b, c, n], range: [0, 1] });
  const scalar1 = (dtype: DataType, v: number): InputSpec => ({ dtype, dims: [1], values: [v] });
  const int64: readonly DataType[] = ['int64'];
  for (const center_point_box of [0, 1]) {
    for (const iou of [0, 0.3, 0.7]) {
      await matchesOrt(`nms center ${center_point_box} iou ${iou}`, {
        op: 'NonMaxSuppression',
        attrs: { center_point_box },
        inputs: [boxes(2, 16), scores(2, 3, 16), scalar1('int64', 5), scalar1('float32', iou), scalar1('float32', 0.25)],
        outputTypes: int64,
      });
    }
  }
});

test('RoiAlign matches onnxruntime-web: avg and max, both coordinate modes', async () => {
  const rois: InputSpec = { dtype: 'float32', dims: [4, 4], values: [0, 0, 9, 9, 2.5, 1.2, 7.7, 8.9, -3, -2, 5, 4, 6, 5, 14, 13] };
  const batch: InputSpec = { dtype: 'int64', dims: [4], values: [0, 1, 1, 0] };
  for (const mode of ['avg', 'max']) {
    for (const ctm of ['half_pixel', 'output_half_pixel']) {
      await matchesOrt(`roialign ${mode} ${ctm}`, { op: 'RoiAlign', opset: 16, attrs: { mode, coordinate_transformation_mode: ctm, output_height: 3, output_width: 4 }, inputs: [f32([2, 3, 10, 12]), rois, batch], tolerance: { rtol: 1e-4, atol: 1e-5 } });
    }
  }
});

test('RNN, GRU and LSTM match onnxruntime-web: directions, sequence_lens, initial states, peepholes, clip, activations', async () => {
  const w = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-0.6, 0.6] });
  const lens: InputSpec = { dtype: 'int32', dims: [3], values: [5, 2, 4] };
  const tol = { rtol: 1e-4, atol: 1e-5 };
  for (const direction of ['forward', 'reverse', 'bidirectional']) {
    const d = direction === 'bidirectional' ? 2 : 1;
    await matchesOrt(`rnn ${direction}`, { op: 'RNN', attrs: { hidden_size: 4, direction }, inputs: [w(5, 3, 6), w(d, 4, 6), w(d, 4, 4), w(d, 8), lens, w(d, 3, 4)], outputs: 2, tolerance: tol });
    for (const linear_before_reset of [0, 1]) {
      await matchesOrt(`gru ${direction} lbr ${linear_before_reset}`, { op: 'GRU', attrs: { hidden_size: 4, direction, linear_before_reset }, inputs: [w(5, 3, 6), w(d, 12, 6), w(d, 12, 4), w(d, 24), lens, w(d, 3, 4)], outputs: 2, tolerance: tol });
    }
    await matchesOrt(`lstm ${direction} peepholes`, { op: 'LSTM', attrs: { hidden_size: 4, direction }, inputs: [w(5, 3, 6), w(d, 16, 6), w(d, 16, 4), w(d, 32), lens, w(d, 3, 4), w(d, 3, 4), w(d, 12)], outputs: 3, tolerance: tol });
  }
  await matchesOrt('lstm clip, no bias', { op: 'LSTM', attrs: { hidden_size: 3, clip: { float: 0.5 } }, inputs: [w(4, 2, 5), w(1, 12, 5), w(1, 12, 3)], outputs: 3, tolerance: tol });
  await matchesOrt('rnn relu activation', { op: 'RNN', attrs: { hidden_size: 3, activations: ['Relu'] }, inputs: [w(4, 2, 5), w(1, 3, 5), w(1, 3, 3)], outputs: 2, tolerance: tol });
  await matchesOrt('gru hardsigmoid/leakyrelu with alphas', { op: 'GRU', attrs: { hidden_size: 3, activations: ['HardSigmoid', 'LeakyRelu'], activation_alpha: { floats: [0.3, 0.05] }, activation_beta: { floats: [0.4] } }, inputs: [w(4, 2, 5), w(1, 9, 5), w(1, 9, 3)], outputs: 2, tolerance: tol });
});

test('CenterCropPad matches onnxruntime-web (crop and pad, odd and even differences)', async () => {
  const shape = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
  await matchesOrt('centercroppad mixed', { op: 'CenterCropPad', opset: 18, inputs: [f32([9, 4, 3]), shape([6, 7, 3])] });
  await matchesOrt('centercroppad axes', { op: 'CenterCropPad', opset: 18, attrs: { axes: [0, 2] }, inputs: [f32([5, 2, 8]), shape([8, 3])] });
});

test('AffineGrid matches onnxruntime-web, 2-D and 3-D, both align_corners', async () => {
  const size = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
  for (const align_corners of [0, 1]) {
    await matchesOrt(`affinegrid 2d ${align_corners}`, { op: 'AffineGrid', opset: 20, attrs: { align_corners }, inputs: [f32([2, 2, 3]), size([2, 3, 4, 5])] });
    await matchesOrt(`affinegrid 3d ${align_corners}`, { op: 'AffineGrid', opset: 20, attrs: { align_corners }, inputs: [f32([1, 3, 4]), size([1, 1, 3, 2, 4])] });
  }
});

test('ReverseSequence matches onnxruntime-web, time- and batch-major', async () => {
  const lens = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
  await matchesOrt('reversesequence time-major', { op: 'ReverseSequence', inputs: [f32([5, 3, 2]), lens([5, 1, 3])] });
  await matchesOrt('reversesequence batch-major', { op: 'ReverseSequence', attrs: { time_axis: 1, batch_axis: 0 }, inputs: [f32([3, 6, 2]), lens([2, 6, 4])] });
});

test('Col2Im matches onnxruntime-web: 2-D with strides, dilations and pads, 3-D', async () => {
  const ints = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
  await matchesOrt('col2im 2-D', { op: 'Col2Im', opset: 18, inputs: [f32([2, 3 * 4, 16]), ints([5, 5]), ints([2, 2])] });
  await matchesOrt('col2im strides dilations pads', { op: 'Col2Im', opset: 18, attrs: { strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 1] }, inputs: [f32([1, 2 * 6, 16]), ints([6, 5]), ints([3, 2])] });
  await matchesOrt('col2im 3-D', { op: 'Col2Im', opset: 18, inputs: [f32([1, 2 * 8, 12]), ints([3, 4, 3]), ints([2, 2, 2])] });
});

test('MaxUnpool matches onnxruntime-web: default shape, pads, output_shape, duplicate indices', async () => {
  const idx = (total: number, dims: number[]): InputSpec => ({ dtype: 'int64', dims, range: [0, total] });
  await matchesOrt('maxunpool 2-D', { op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [2, 2], strides: [2, 2] }, inputs: [f32([2, 3, 3, 4]), idx(2 * 3 * 6 * 8, [2, 3, 3, 4])] });
  await matchesOrt('maxunpool pads output_shape', { op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, inputs: [f32([1, 2, 3, 3]), idx(2 * 6 * 7, [1, 2, 3, 3]), { dtype: 'int64', dims: [4], values: [1, 2, 6, 7] }] });
  await matchesOrt('maxunpool 1-D', { op: 'MaxUnpool', opset: 11, attrs: { kernel_shape: [3] }, inputs: [f32([1, 4, 5]), idx(4 * 7, [1, 4, 5])] });
});

test('DeformConv matches onnxruntime-web: offsets off the grid and outside the image, groups, offset groups, bias and mask', async () => {
  const off = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-1.5, 1.5] });
  const tol = { rtol: 1e-4, atol: 1e-5 };
  await matchesOrt('deformconv pads', { op: 'DeformConv', opset: 19, attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, inputs: [f32([1, 2, 5, 6]), f32([3, 2, 3, 3]), off([1, 18, 5, 6])], tolerance: tol });
  await matchesOrt('deformconv groups mask bias', { op: 'DeformConv', opset: 19, attrs: { group: 2, offset_group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 1, 2] }, inputs: [f32([2, 4, 6, 5]), f32([4, 2, 2, 3]), off([2, 24, 4, 3]), f32([4]), { dtype: 'float32', dims: [2, 12, 4, 3], range: [0, 1] }], tolerance: tol });
});

test('Det matches onnxruntime-web on batches of random matrices', async () => {
  await matchesOrt('det 2x2', { op: 'Det', opset: 11, inputs: [f32([2, 2])], tolerance: { rtol: 1e-4, atol: 1e-5 } });
  await matchesOrt('det batch 4x4', { op: 'Det', opset: 11, inputs: [f32([3, 2, 4, 4])], tolerance: { rtol: 1e-4, atol: 1e-4 } });
});

test('BitCast matches onnxruntime-web: float32 <-> int32, float64 -> int64', async () => {
  await matchesOrt('bitcast float32 to int32', { op: 'BitCast', opset: 26, attrs: { to: 6 }, inputs: [f32([3, 4])], outputTypes: ['int32'], tolerance: { rtol: 0, atol: 0 } });
  await matchesOrt('bitcast int32 to float32', { op: 'BitCast', opset: 26, attrs: { to: 1 }, inputs: [{ dtype: 'int32', dims: [9], range: [-1e9, 1e9] }], outputTypes: ['float32'], tolerance: { rtol: 0, atol: 0 } });
  await matchesOrt('bitcast float64 to int64', { op: 'BitCast', opset: 26, attrs: { to: 7 }, inputs: [{ dtype: 'float64', dims: [2, 3] }], outputTypes: ['int64'], tolerance: { rtol: 0, atol: 0 } });
});
