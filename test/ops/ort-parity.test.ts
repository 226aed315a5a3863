// Single ops where Kiln and onnxruntime-web once disagreed (issue 12), run on both with seeded
// inputs: every Kiln backend must give onnxruntime-web's answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

ort.env.wasm.numThreads = 1;

const f32 = (v: readonly number[], dims: readonly number[]): AnyTensor => new Tensor('float32', Float32Array.from(v), dims);

async function matchesOrt(name: string, model: WriterModel, dims: readonly number[]): Promise<void> {
  const rng = testRng(import.meta.url, name);
  const n = dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => rng.range(-3, 3));
  const bytes = encodeOnnxModel(model);
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const want = (await theirs.run({ x: new ort.Tensor('float32', x, [...dims]) })).y!;
  await theirs.release();
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = (await s.run({ x: new Tensor('float32', x, dims) })).y!;
      const problem = compareTensors(got, new Tensor('float32', want.data as Float32Array, want.dims), { rtol: 1e-5, atol: 1e-5 });
      assert.equal(problem, undefined, `${name} on ${provider} (seed ${rng.seed}): ${problem}`);
    } finally {
      await s.release();
    }
  }
}

test('BatchNormalization of a rank-1 input: [N] with one channel, as onnxruntime reads it', async () => {
  const one = (v: number): AnyTensor => f32([v], [1]);
  await matchesOrt('bn rank 1', {
    nodes: [{ opType: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1e-3 } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [9] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { s: one(1.5), b: one(0.25), m: one(-0.5), v: one(2) },
    opsets: { '': 15 },
  }, [9]);
});

test('Resize 5-D trilinear: scales, sizes, axes and coordinate modes as onnxruntime computes them', async () => {
  const dims = [2, 3, 4, 5, 6];
  const resize = (name: string, attrs: Record<string, string | number | number[]>, extra: { scales?: number[]; sizes?: number[] }): Promise<void> => {
    const inputs = ['x', '', extra.scales ? 's' : '', ...(extra.sizes ? ['z'] : [])];
    return matchesOrt(name, {
      nodes: [{ opType: 'Resize', inputs, outputs: ['y'], attrs: { mode: 'linear', ...attrs } }],
      inputs: [{ name: 'x', dtype: 'float32', dims }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: {
        ...(extra.scales ? { s: f32(extra.scales, [extra.scales.length]) } : {}),
        ...(extra.sizes ? { z: new Tensor('int64', BigInt64Array.from(extra.sizes.map(BigInt)), [extra.sizes.length]) } : {}),
      },
      opsets: { '': 19 },
    }, dims);
  };
  for (const coord of ['half_pixel', 'pytorch_half_pixel', 'asymmetric', 'half_pixel_symmetric']) {
    await resize(`upsample ${coord}`, { coordinate_transformation_mode: coord }, { scales: [1, 1, 2, 1.5, 1.7] });
    await resize(`downsample ${coord}`, { coordinate_transformation_mode: coord }, { scales: [1, 1, 0.6, 0.5, 0.4] });
  }
  await resize('sizes', {}, { sizes: [2, 3, 7, 3, 11] });
  await resize('axes', { axes: [2, 3, 4] }, { scales: [2, 0.5, 1.7] });
  await resize('align_corners, whole output sizes', { coordinate_transformation_mode: 'align_corners' }, { scales: [1, 1, 2, 2, 1.5] });
});
