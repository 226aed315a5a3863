// A conv step's kernel arguments are built once per plan layout (kernels/wasm/once-per-layout.ts),
// not per run. A session whose input shape changes run to run holds one prepared plan per shape side
// by side, each with its own lowered steps and layout: every run must get its own plan's addresses (a
// cache kept beyond one step and its layout hands a run another plan's: checked, the run traps). A
// Winograd-shaped 3x3 conv, a depthwise 5x5 and an im2col 3x3 stride 2 in one model, the input's
// height and width alternating between three shapes, each run against the plain reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const t = (dims: number[], lo: number, hi: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(dims.reduce((a, b) => a * b, 1), lo, hi)), dims);

test(`conv arguments follow the plan when the input shape alternates (seed ${rng.seed})`, async () => {
  const c = 16;
  const bytes = encodeOnnxModel({
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { opType: 'Conv', inputs: ['a', 'w2'], outputs: ['d'], attrs: { kernel_shape: [5, 5], pads: [2, 2, 2, 2], group: c } },
      { opType: 'Conv', inputs: ['d', 'w3', 'b3'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, c, 'h', 'w'] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w1: t([c, c, 3, 3], -0.3, 0.3), b1: t([c], -0.5, 0.5), w2: t([c, 1, 5, 5], -0.3, 0.3), w3: t([8, c, 3, 3], -0.3, 0.3), b3: t([8], -0.5, 0.5) },
    opsets: { '': 17 },
  });
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  try {
    const shapes = [[1, c, 10, 12], [1, c, 7, 9], [1, c, 10, 12], [1, c, 13, 6], [1, c, 7, 9], [1, c, 10, 12]];
    for (const [i, dims] of shapes.entries()) {
      const x = t(dims, -2, 2);
      const want = (await ref.run({ x }))['y']!;
      const got = (await s.run({ x }))['y']!;
      assert.deepEqual(got.dims, want.dims, `run ${i}: dims`);
      assert.equal(compareTensors(got, want, { rtol: 1e-4, atol: 1e-4 }), undefined, `run ${i} (${dims.join('x')}, seed ${rng.seed})`);
    }
  } finally {
    await s.release();
    await ref.release();
  }
});
