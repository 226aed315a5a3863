// The float Conv on the wasm thread pool (kernels/conv/wasm.ts -> parallelRows over kiln_conv_f32's
// (image, group, chunk) units and kiln_conv_depthwise_f32's planes): 1, 2 and 3 threads give the same
// bits, the 1-thread output matches the op's reference (so it is no oracle of itself), and the
// 2- and 3-thread runs really dispatched to the pool (the caller's published jobs, counted while the
// session runs; the first call of a shape runs split, runtime/backends/wasm/split-choice.ts). Odd shapes: channel and position counts that are no multiple of 8,
// a last chunk shorter than the others, batch 2 with groups, 1x1 (the direct packing path), a fused
// Relu (the kernel's clamp), depthwise 3x3 and 5x5 stride 2. Every case is above the pool's threshold
// (128^3 multiply-adds), so it splits. Seeded inputs (KILN_TEST_SEED replays).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { bytesOf, jobsDuring, expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

const rng = testRng(import.meta.url);
const count = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const f32 = (dims: number[]): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(count(dims), -1, 1)), dims);

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly x: Tensor<'float32'>;
}

function convModel(name: string, x: number[], w: number[], attrs: Record<string, number | number[]>, opts: { bias?: boolean; relu?: boolean } = {}): Model {
  const inputs = ['x', 'w', ...(opts.bias === false ? [] : ['b'])];
  const nodes: WriterModel['nodes'] = opts.relu
    ? [{ opType: 'Conv', inputs, outputs: ['c'], attrs }, { opType: 'Relu', inputs: ['c'], outputs: ['y'] }]
    : [{ opType: 'Conv', inputs, outputs: ['y'], attrs }];
  const initializers: Record<string, AnyTensor> = { w: f32(w), ...(opts.bias === false ? {} : { b: f32([w[0]!]) }) };
  const bytes = encodeOnnxModel({ nodes, inputs: [{ name: 'x', dtype: 'float32', dims: x }], outputs: [{ name: 'y', dtype: 'float32' }], initializers });
  return { name, bytes, x: f32(x) };
}

async function sameOnThreads(m: Model): Promise<void> {
  const ref = await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = (await ref.run({ x: m.x }))['y']!;
  await ref.release();
  let one: AnyTensor | undefined;
  for (const numThreads of [1, 2, 3]) {
    const s = await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const { value: out, jobs } = await jobsDuring(() => s.run({ x: m.x }));
      const got = out['y']!;
      assert.equal(s.lastPlacement?.threads, numThreads);
      assert.deepEqual(s.lastPlacement?.steps.map((st) => st.implementation), ['wasm'], `${m.name}: ran its wasm kernel (Relu fused)`);
      if (numThreads > 1) assert.ok(jobs >= 1, `${m.name}: split across ${numThreads} threads`);
      else assert.equal(jobs, 0, `${m.name}: one thread publishes no job`);
      if (!one) {
        one = got;
        assert.equal(compareTensors(got, want, { rtol: 1e-4, atol: 1e-4 }), undefined, `${m.name}: 1 thread vs the reference`);
      } else {
        const a = bytesOf(one), b = bytesOf(got);
        assert.ok(a.length === b.length && b.every((v, i) => v === a[i]), `${m.name}: ${numThreads} threads differ from 1`);
      }
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
}

test(`float Conv (im2col + GEMM) on 1, 2, 3 threads: same bits, = reference, split (seed ${rng.seed})`, async () => {
  await sameOnThreads(convModel('3x3 pad 1, 13 -> 19 channels, 37x29, bias', [1, 13, 37, 29], [19, 13, 3, 3], { pads: [1, 1, 1, 1] }));
  await sameOnThreads(convModel('3x3 batch 2, 3 groups, stride 1, no bias, Relu', [2, 24, 61, 59], [30, 8, 3, 3], { group: 3, pads: [1, 1, 1, 1] }, { bias: false, relu: true }));
  await sameOnThreads(convModel('1x1, 64 -> 72 channels, 45x47 (direct packing)', [1, 64, 45, 47], [72, 64, 1, 1], {}));
  await sameOnThreads(convModel('5x3 stride 2 dilation 2, 21 -> 11 channels', [1, 21, 97, 83], [11, 21, 5, 3], { strides: [2, 2], dilations: [2, 2], pads: [2, 1, 3, 2] }));
  // one chunk of 144 positions at the size that fits the cache: split into chunks of 24 (chunkPositions), else one unit, never split
  await sameOnThreads(convModel('1x1, 192 -> 192 channels, 12x12 (a small map: chunks made smaller to split)', [1, 192, 12, 12], [192, 192, 1, 1], {}));
  // 2 groups (no Winograd form: conv-winograd.test.ts covers that) of 143 positions: chunks of 40, the last 23
  await sameOnThreads(convModel('3x3, 2 groups, 96 -> 40 channels, 11x13 (a last chunk of 23)', [1, 96, 11, 13], [40, 48, 3, 3], { group: 2, pads: [1, 1, 1, 1] }));
});

test('float depthwise Conv (3x3 stride 1 batch 2, 5x5 stride 2, 5x5 on 12x12 maps) on 1, 2, 3 threads: same bits, = reference, split', async () => {
  // PP-OCRv4 det's 192 planes of 12x12: 0.69 M multiply-adds, over the pool's threshold only as depthwise work (DEPTHWISE_MAC_COST)
  await sameOnThreads(convModel('depthwise 5x5 on 12x12', [1, 192, 12, 12], [192, 1, 5, 5], { group: 192, pads: [2, 2, 2, 2] }));
  await sameOnThreads(convModel('depthwise 3x3 batch 2', [2, 67, 59, 61], [67, 1, 3, 3], { group: 67, pads: [1, 1, 1, 1] }, { relu: true }));
  await sameOnThreads(convModel('depthwise 5x5 stride 2', [1, 61, 95, 87], [61, 1, 5, 5], { group: 61, strides: [2, 2], pads: [2, 2, 2, 2] }));
});
