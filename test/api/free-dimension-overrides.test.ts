// onnxruntime's session option freeDimensionOverrides (runtime/graph/free-dimensions.ts): checked
// before any download, symbolic graph-input dims fixed by name, the same answers as the model left
// symbolic (and as onnxruntime-web given the same overrides), other dims refused at run, and a
// streamed model with symbolic inputs planned and compiled from its early shapes (onnx-early.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { KilnError } from '../../core/errors.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { loadModel } from '../../runtime/loading/load-model.ts';
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { compareTensors } from '../helpers/compare.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { startRangedServer, type RangedServer } from '../helpers/ranged-server.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { matmulChain } from '../format/kiln-fixture.ts';

const rng = testRng(import.meta.url);
ort.env.wasm.numThreads = 1;

/** the 6-layer MatMul chain with weights of 256 KB (reached by Range hops), its input [batch, 256] */
const chainModel = matmulChain(rng, 6, 256);
const symbolic = encodeOnnxModel({ ...chainModel, inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 256] }] });
const BATCH = { batch: 3 };
/** a symbolic dim past the batch too: the early path cannot guess it */
const symbolicSequence = encodeOnnxModel({ ...chainModel, inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 'sequence', 256] }] });

const rejects = async (p: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KilnError, `a KilnError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
};

test('sizes that are not positive integers, and a non-object, are INVALID_ARGUMENT before any download', async () => {
  // Nothing listens on port 9: a request made before the check would fail with a network error instead.
  const url = 'http://127.0.0.1:9/model.onnx';
  for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '4', null, 2 ** 53]) {
    const overrides = { batch: size } as unknown as Record<string, number>; // wrong types on purpose: what a JavaScript caller can pass
    await rejects(InferenceSession.create(url, { freeDimensionOverrides: overrides }), 'INVALID_ARGUMENT', /freeDimensionOverrides\['batch'\] must be a positive integer/);
  }
  for (const bad of [null, 5, 'batch', [3]]) {
    const overrides = bad as unknown as Record<string, number>; // wrong types on purpose: what a JavaScript caller can pass
    await rejects(InferenceSession.create(url, { freeDimensionOverrides: overrides }), 'INVALID_ARGUMENT', /freeDimensionOverrides must be an object/);
  }
});

test('a name no input uses is ignored, as in onnxruntime; the named dim becomes fixed in inputMetadata', async () => {
  const unknown = await InferenceSession.create(symbolic, { executionProviders: ['js'], freeDimensionOverrides: { sequence: 7 } });
  const fixed = await InferenceSession.create(symbolic, { executionProviders: ['js'], freeDimensionOverrides: { ...BATCH, sequence: 7 } });
  try {
    assert.deepEqual(unknown.inputMetadata[0]!.shape, ['batch', 256]);
    assert.deepEqual(fixed.inputMetadata[0]!.shape, [3, 256]);
  } finally {
    await unknown.release();
    await fixed.release();
  }
});

for (const backend of ['js', 'wasm', 'webgpu'] as const) {
  test(`${backend}: the same outputs with the overrides as without (and as the plain reference); other dims refused, naming the input`, async () => {
    const x = randomTensor({ dtype: 'float32', dims: [3, 256] }, rng);
    const reference = await InferenceSession.create(symbolic, { executionProviders: [{ name: 'js', reference: true }] });
    const plain = await InferenceSession.create(symbolic, { executionProviders: [backend] });
    const fixed = await InferenceSession.create(symbolic, { executionProviders: [backend], freeDimensionOverrides: BATCH });
    try {
      const want = (await reference.run({ x })).y!;
      const got = (await fixed.run({ x })).y!;
      assert.equal(compareTensors(got, want, { rtol: 1e-4, atol: 1e-6 }), undefined);
      assert.equal(compareTensors(got, (await plain.run({ x })).y!, { rtol: 1e-4, atol: 1e-6 }), undefined);
      const wrong = randomTensor({ dtype: 'float32', dims: [2, 256] }, rng);
      await assert.doesNotReject(plain.run({ x: wrong }), 'left symbolic, any batch runs');
      await assert.rejects(fixed.run({ x: wrong }), (e: unknown) => {
        assert.ok(e instanceof KilnError);
        assert.equal(e.code, 'INPUT_MISMATCH');
        assert.equal(e.message, "[INPUT_MISMATCH] input 'x': expected shape [3, 256], given [2, 256]");
        assert.deepEqual(e.details, { input: 'x', expected: [3, 256], given: [2, 256] });
        return true;
      });
    } finally {
      await reference.release();
      await plain.release();
      await fixed.release();
    }
  });
}

test('PaddleOCR v2 direction classifier (symbolic N, H, W): wasm with the overrides as onnxruntime-web with the same overrides', async () => {
  const bytes = new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx')));
  const overrides = { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 };
  const dims = [1, 3, 48, 192];
  const pixels = Float32Array.from({ length: 3 * 48 * 192 }, () => rng.uniform() * 2 - 1);
  const ortSession = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], freeDimensionOverrides: overrides });
  const session = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }], freeDimensionOverrides: overrides });
  try {
    assert.deepEqual(session.inputMetadata[0]!.shape, dims);
    const want = await ortSession.run({ x: new ort.Tensor('float32', pixels, dims) });
    const got = await session.run({ x: new Tensor('float32', pixels, dims) });
    for (const name of session.outputNames) {
      const w = want[name]!;
      assert.equal(compareTensors(got[name]!, new Tensor('float32', w.data as Float32Array, w.dims), { rtol: 1e-3, atol: 2e-4 }), undefined, name);
    }
    await assert.rejects(session.run({ x: new Tensor('float32', new Float32Array(3 * 48 * 96), [1, 3, 48, 96]) }), /input 'x': expected shape \[1, 3, 48, 192\], given \[1, 3, 48, 96\]/);
  } finally {
    await ortSession.release();
    await session.release();
  }
});

let server: RangedServer | undefined;
before(async () => {
  server = await startRangedServer({
    '/symbolic.onnx': { bytes: symbolic, ranges: true, etag: '"s"', holdAt: 16 << 10 },
    '/symbolic-sequence.onnx': { bytes: symbolicSequence, ranges: true, etag: '"q"', holdAt: 16 << 10 },
  }, 4e6);
});
after(async () => server?.close());

test('streamed from a server with Range support: a symbolic batch alone is planned early as 1; a symbolic sequence stops the early path without overrides, with them the shapes come early', async () => {
  const batchOnly = await loadModel(`${server!.url}/symbolic.onnx`);
  assert.equal(batchOnly.onnxStream?.early?.ok, true, JSON.stringify(batchOnly.onnxStream));
  assert.deepEqual(batchOnly.model.graph.inputs[0]!.dims, ['batch', 256], 'the guess is the plan\'s, not the model\'s');
  const plain = await loadModel(`${server!.url}/symbolic-sequence.onnx`);
  assert.deepEqual(plain.onnxStream?.early, { ok: false, why: "input 'x' has no fixed shape (planned at the first run)" });
  const open = server!.gate('/symbolic-sequence.onnx'); // the download pauses after its first piece until the shapes are told
  let told = false;
  const loaded = await loadModel(`${server!.url}/symbolic-sequence.onnx`, { freeDimensionOverrides: { ...BATCH, sequence: 2 }, onnxEvents: { onShapes: () => void (told = true, open()) } });
  assert.ok(told, 'told the early structure');
  assert.equal(loaded.onnxStream?.early?.ok, true, JSON.stringify(loaded.onnxStream));
  assert.deepEqual(loaded.model.graph.inputs[0]!.dims, [3, 2, 256]);
});

test('webgpu, streamed with overrides: pipelines compiled before the last byte are the ones the run uses, none after', async () => {
  const proto = WebGpuBackend.prototype;
  const prewarm = proto.prewarm;
  const open = server!.gate('/symbolic.onnx');
  proto.prewarm = function (this: WebGpuBackend, plan) {
    open(); // the early plan is asked for before the rest of the file arrives
    return prewarm.call(this, plan);
  };
  const streamed = await InferenceSession.create(`${server!.url}/symbolic.onnx`, { executionProviders: ['webgpu'], freeDimensionOverrides: BATCH }).finally(() => void (proto.prewarm = prewarm));
  const fromMemory = await InferenceSession.create(symbolic, { executionProviders: ['webgpu'], freeDimensionOverrides: BATCH });
  try {
    const x = randomTensor({ dtype: 'float32', dims: [3, 256] }, rng);
    const floats = (t: AnyTensor | undefined): number[] => Array.from(t!.data as Float32Array);
    assert.deepEqual(floats((await streamed.run({ x })).y), floats((await fromMemory.run({ x })).y));
    const counts = streamed.pipelineCompiles!;
    assert.ok(counts.ahead > 0, JSON.stringify(counts));
    assert.equal(counts.onDemand, 0, JSON.stringify(counts));
    assert.equal(counts.claimed, counts.ahead, JSON.stringify(counts));
  } finally {
    await streamed.release();
    await fromMemory.release();
  }
});
