// executionProviders: ['auto'] on models with symbolic dims: it measures at sizes the model can run
// (PaddleOCR cls and rec failed at all-1 dims: a 1x1 image under a 2x2 pool), and when nothing runs,
// the choice says why and a software adapter keeps the CPU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import { isSoftwareAdapter } from '../../runtime/backends/webgpu/gpu-device.ts';
import { getGpu } from '../../runtime/backends/webgpu/gpu-provider.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { FREE_LENGTH, IMAGE_SIDE, measurementDims } from '../../runtime/api/measure-feeds.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

test('measurementDims: batch 1, image sides, one size per dim name, then all ones', () => {
  const tried = measurementDims([
    { name: 'image', type: 'float32', shape: ['N', 3, 'H', 'W'] },
    { name: 'ids', type: 'int64', shape: ['batch', 'seq'] },
    { name: 'mask', type: 'int64', shape: ['batch', 'seq'] },
    { name: 'nhwc', type: 'float32', shape: [-1, 'h', 'w', 3] },
    { name: 'fixed', type: 'float32', shape: [2, 5] },
  ]);
  assert.deepEqual(tried, [
    { image: [1, 3, IMAGE_SIDE, IMAGE_SIDE], ids: [1, FREE_LENGTH], mask: [1, FREE_LENGTH], nhwc: [1, IMAGE_SIDE, IMAGE_SIDE, 3], fixed: [2, 5] },
    { image: [1, 3, 1, 1], ids: [1, 1], mask: [1, 1], nhwc: [1, 1, 1, 3], fixed: [2, 5] },
  ]);
  assert.deepEqual(measurementDims([{ name: 'x', type: 'float32', shape: ['n', 3] }]), [{ x: [1, 3] }], 'only a batch: one try');
});

/** a CNN stem whose 3x3 pool cannot run on a 1x1 image, with free batch, height and width (as PaddleOCR's cls) */
const poolModel = encodeOnnxModel({
  nodes: [
    { opType: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [3, 3], strides: [2, 2] } },
    { opType: 'GlobalAveragePool', inputs: ['p'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3, 'height', 'width'] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
});

test("'auto' on a model with symbolic image dims measures both backends at a size the model runs", { timeout: 120_000 }, async () => {
  const session = await InferenceSession.create(poolModel, { executionProviders: ['auto'] });
  try {
    const c = session.backendChoice;
    assert.equal(c.reason, 'measured', JSON.stringify(c));
    assert.ok(c.medianMs?.webgpu !== undefined && c.medianMs.wasm !== undefined, `a median for both: ${JSON.stringify(c)}`);
    assert.equal(c.chosen, c.medianMs.webgpu < c.medianMs.wasm ? 'webgpu' : 'wasm');
    assert.deepEqual(c.measuredDims, { x: [1, 3, IMAGE_SIDE, IMAGE_SIDE] });
    assert.equal(c.failures, undefined);
    // the kept session runs the caller's own shapes
    const x = Float32Array.from({ length: 2 * 3 * 7 * 9 }, () => rng.uniform());
    const y = (await session.run({ x: new Tensor('float32', x, [2, 3, 7, 9]) })).y!;
    assert.deepEqual(y.dims, [2, 3, 1, 1]);
  } finally {
    await session.release();
  }
});

test("'auto' on a model that runs at no size it tries says why per backend, and keeps the CPU on a software adapter", { timeout: 120_000 }, async () => {
  // Reshape to a fixed 7 values: only a free length of 7 runs, which neither FREE_LENGTH nor 1 is
  const model = encodeOnnxModel({
    nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 'length'] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { shape: new Tensor('int64', BigInt64Array.of(1n, 7n), [2]) },
  });
  const adapter = await getGpu()?.requestAdapter({ powerPreference: 'high-performance' });
  assert.ok(adapter, 'this test needs a WebGPU adapter (SwiftShader in Node)');
  const session = await InferenceSession.create(model, { executionProviders: ['auto'] });
  try {
    const c = session.backendChoice;
    assert.equal(c.reason, 'measurement-failed');
    assert.deepEqual(c.medianMs, {});
    assert.equal(c.measuredDims, undefined);
    for (const backend of ['webgpu', 'wasm'] as const) {
      const why = c.failures?.[backend] ?? '';
      assert.match(why, new RegExp(`did not run at x \\[1,${FREE_LENGTH}\\]: .*Reshape.*; at x \\[1,1\\]: `), `${backend}: ${why}`);
    }
    assert.equal(c.chosen, isSoftwareAdapter(adapter) ? 'wasm' : 'webgpu');
    assert.equal(session.executionProvider, c.chosen);
  } finally {
    await session.release();
  }
});
