// Cold start while a .kiln streams: pipelines are compiled from the graph's shapes before the weights
// arrive (runtime/loading/streamed-start.ts, runtime/backends/webgpu/pipeline-prewarm.ts). What must
// hold whatever the timing: a streamed session answers exactly as one loaded from memory, its plan
// compiles nothing after the last byte (every pipeline it asks for was compiled ahead), a wrong
// guess is never used and is dropped, and a stream that fails leaves no compile in flight.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { PipelineCounts } from '../../runtime/backends/webgpu/pipeline-cache.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { PREAMBLE_BYTES, alignUp } from '../../runtime/format/kiln/kiln-layout.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { planFromShapes } from '../../runtime/loading/shape-plan.ts';
import { InferenceSession, KilnError } from '../../runtime/node.ts';
import { startCountingServer, type CountingServer } from '../browser/helpers/counting-server.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { layeredMlp, matmulChain, quantizedModel } from '../format/kiln-fixture.ts';
import { storedHeaderLength } from '../format/kiln-surgery.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

/** Conv + BatchNormalization (folded by a pass that reads the weights) + Relu + Reshape (an int64 shape) + Gemm */
function convBn(): WriterModel {
  const c = 8;
  return {
    opsets: { '': 17 },
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      w: randomTensor({ dtype: 'float32', dims: [c, 3, 3, 3], range: [-0.3, 0.3] }, rng),
      scale: randomTensor({ dtype: 'float32', dims: [c], range: [0.5, 1.5] }, rng),
      bias: randomTensor({ dtype: 'float32', dims: [c] }, rng),
      mean: randomTensor({ dtype: 'float32', dims: [c], range: [-0.5, 0.5] }, rng),
      var: randomTensor({ dtype: 'float32', dims: [c], range: [0.5, 2] }, rng),
      shape: new Tensor('int64', [1n, BigInt(c * 64)], [2]),
      fc: randomTensor({ dtype: 'float32', dims: [c * 64, 10], range: [-0.05, 0.05] }, rng),
    },
    nodes: [
      { name: 'conv', opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { name: 'bn', opType: 'BatchNormalization', inputs: ['c', 'scale', 'bias', 'mean', 'var'], outputs: ['b'] },
      { name: 'relu', opType: 'Relu', inputs: ['b'], outputs: ['r'] },
      { name: 'flat', opType: 'Reshape', inputs: ['r', 'shape'], outputs: ['f'] },
      { name: 'fc', opType: 'Gemm', inputs: ['f', 'fc'], outputs: ['y'] },
    ],
  };
}

const models: Record<string, { model: WriterModel; input: number[] }> = {
  'matmul-chain': { model: matmulChain(rng, 4, 128), input: [1, 128] },
  'layered-mlp': { model: layeredMlp(), input: [2, 128] },
  'conv-bn': { model: convBn(), input: [1, 3, 8, 8] },
  // int8 QDQ Conv, int4 blocked MatMul, float16, a Constant node; the batch fixed so the plan is static
  quantized: { model: { ...quantizedModel(), inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 6, 6] }], outputs: [{ name: 'y', dtype: 'float32' }] }, input: [2, 3, 6, 6] },
};
/** its input has a symbolic batch: planned ahead with batch 1 (shape-plan.ts plannableInputs) */
const symbolic = quantizedModel();
/** a symbolic width too: planned at the first run, nothing compiled ahead */
const symbolicWidth: WriterModel = { ...symbolic, inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3, 6, 'width'] }] };

const dir = mkdtempSync(join(tmpdir(), 'kiln-prewarm-'));
let server: CountingServer | undefined;
const bytesOf = new Map<string, Uint8Array>();

before(async () => {
  for (const [name, { model }] of Object.entries(models)) {
    const bytes = await encodeKilnBundle(model, {}, { sectionBytes: 16 << 10 });
    bytesOf.set(name, bytes);
    writeFileSync(join(dir, `${name}.kiln`), bytes);
  }
  writeFileSync(join(dir, 'symbolic.kiln'), await encodeKilnBundle(symbolic, {}, { sectionBytes: 16 << 10 }));
  writeFileSync(join(dir, 'symbolic-width.kiln'), await encodeKilnBundle(symbolicWidth, {}, { sectionBytes: 16 << 10 }));
  // A section near the end damaged: the pipelines were compiled ahead from the header by then.
  const good = bytesOf.get('matmul-chain')!;
  const header = (await readKilnBundle(good)).header;
  const v = new DataView(good.buffer, good.byteOffset);
  const dataStart = alignUp(PREAMBLE_BYTES + storedHeaderLength(good) + v.getUint32(12, true));
  const last = header.sections.length - 1;
  const corrupt = good.slice();
  corrupt[dataStart + header.sections[last]!.offset + 5]! ^= 0x40;
  writeFileSync(join(dir, 'corrupt.kiln'), corrupt);
  server = await startCountingServer({ mounts: { '/slow/': dir }, cors: false, slow: /^\/slow\// });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const floats = (t: AnyTensor | undefined): number[] => Array.from(t!.data as Float32Array);

for (const [name, { input }] of Object.entries(models)) {
  test(`webgpu, streamed ${name}.kiln: same outputs as from memory, no pipeline compiled after the last byte`, async () => {
    const streamed = await InferenceSession.create(`${server!.url}/slow/${name}.kiln`, { executionProviders: ['webgpu'] });
    const fromMemory = await InferenceSession.create(bytesOf.get(name)!, { executionProviders: ['webgpu'] });
    try {
      const counts = streamed.pipelineCompiles!;
      assert.ok(counts.ahead > 0, `${name}: pipelines compiled ahead: ${JSON.stringify(counts)}`);
      assert.equal(counts.onDemand, 0, `${name}: pipelines the plan compiled after the last byte: ${JSON.stringify(counts)}`);
      assert.equal(counts.claimed, counts.ahead, `${name}: every pipeline compiled ahead was used`);
      // Bytes in memory are read with the same events (compiles then overlap the section hashing).
      const memory = fromMemory.pipelineCompiles!;
      assert.equal(memory.claimed + memory.onDemand + memory.reused, counts.claimed, 'the same pipelines either way');
      assert.equal(memory.ahead + memory.onDemand, 0, `the second session on the shared device compiles nothing: ${JSON.stringify(memory)}`);
      const x = { x: randomTensor({ dtype: 'float32', dims: input }, rng) };
      assert.deepEqual(floats((await streamed.run(x)).y), floats((await fromMemory.run(x)).y));
    } finally {
      await streamed.release();
      await fromMemory.release();
    }
  });
}

test('webgpu, streamed with graph passes off: the pipelines compiled ahead are still the ones the plan asks for', async () => {
  const s = await InferenceSession.create(`${server!.url}/slow/conv-bn.kiln`, { executionProviders: ['webgpu'], graphOptimizationLevel: 'disabled' });
  try {
    const counts = s.pipelineCompiles!;
    assert.ok(counts.ahead > 0 && counts.onDemand === 0 && counts.claimed === counts.ahead, JSON.stringify(counts));
  } finally {
    await s.release();
  }
});

test('webgpu, streamed with a symbolic batch: compiled ahead for batch 1; a run of batch 3 answers as from memory, each pipeline compiled ahead used or dropped', async () => {
  const streamed = await InferenceSession.create(`${server!.url}/slow/symbolic.kiln`, { executionProviders: ['webgpu'] });
  const reference = await InferenceSession.create(encodeOnnxModel(symbolic), { executionProviders: ['webgpu'] });
  try {
    assert.ok(streamed.pipelineCompiles!.ahead > 0, JSON.stringify(streamed.pipelineCompiles));
    const x = { x: randomTensor({ dtype: 'float32', dims: [3, 3, 6, 6] }, rng) };
    assert.deepEqual(floats((await streamed.run(x)).y), floats((await reference.run(x)).y));
    const counts = streamed.pipelineCompiles!;
    assert.equal(counts.claimed + counts.dropped, counts.ahead, JSON.stringify(counts));
    assert.ok(counts.claimed > 0, `shapes are uniforms: batch 3 shares pipelines with the batch-1 guess: ${JSON.stringify(counts)}`);
  } finally {
    await streamed.release();
    await reference.release();
  }
});

test('webgpu, from memory with a symbolic batch: create compiles the batch-1 plan\'s pipelines, a batch-1 run compiles none and answers as the static model', async () => {
  const s = await InferenceSession.create(encodeOnnxModel(symbolic), { executionProviders: ['webgpu'] });
  const fixed = await InferenceSession.create(encodeOnnxModel({ ...symbolic, inputs: [{ name: 'x', dtype: 'float32', dims: [1, 3, 6, 6] }] }), { executionProviders: ['webgpu'] });
  try {
    const ahead = s.pipelineCompiles!.ahead;
    assert.ok(ahead > 0, JSON.stringify(s.pipelineCompiles));
    const x = { x: randomTensor({ dtype: 'float32', dims: [1, 3, 6, 6] }, rng) };
    assert.deepEqual(floats((await s.run(x)).y), floats((await fixed.run(x)).y));
    assert.deepEqual(s.pipelineCompiles, { ahead, onDemand: 0, claimed: ahead, dropped: 0, pending: 0, reused: 0 });
  } finally {
    await s.release();
    await fixed.release();
  }
});

test('webgpu, streamed with a symbolic dim past the batch: nothing is compiled ahead, the first run plans and answers as from memory', async () => {
  const streamed = await InferenceSession.create(`${server!.url}/slow/symbolic-width.kiln`, { executionProviders: ['webgpu'] });
  const reference = await InferenceSession.create(encodeOnnxModel(symbolicWidth), { executionProviders: ['webgpu'] });
  try {
    assert.deepEqual(streamed.pipelineCompiles, { ahead: 0, onDemand: 0, claimed: 0, dropped: 0, pending: 0, reused: 0 });
    const x = { x: randomTensor({ dtype: 'float32', dims: [1, 3, 6, 6] }, rng) };
    assert.deepEqual(floats((await streamed.run(x)).y), floats((await reference.run(x)).y));
    assert.ok(streamed.pipelineCompiles!.onDemand > 0);
  } finally {
    await streamed.release();
    await reference.release();
  }
});

test('webgpu: a pipeline compiled for a wrong guess is never used and is dropped by the first plan', async () => {
  const guess = readOnnxModel(encodeOnnxModel(layeredMlp('Sigmoid'))); // act5 guessed as Sigmoid
  const real = readOnnxModel(encodeOnnxModel(layeredMlp()));
  const backend = await WebGpuBackend.create();
  const plain = await WebGpuBackend.create();
  try {
    const ahead = backend.prewarm((await planFromShapes(guess, 'webgpu', true))!);
    assert.ok(ahead > 0);
    const plan = (await planFromShapes(real, 'webgpu', true))!;
    const prepared = await backend.prepare(plan);
    const reference = await plain.prepare(plan);
    const counts: PipelineCounts = backend.pipelineCounts;
    assert.ok(counts.dropped >= 1, `the Sigmoid pipeline was dropped: ${JSON.stringify(counts)}`);
    assert.equal(counts.claimed + counts.dropped, counts.ahead, 'each pipeline compiled ahead is either used or dropped');
    assert.equal(backend.pipelineCount, counts.claimed + counts.onDemand, 'the dropped ones are gone from the cache');
    assert.equal(counts.claimed + counts.onDemand, plain.pipelineCounts.onDemand + plain.pipelineCounts.reused, 'the plan got every pipeline it asked for');
    assert.equal(plain.pipelineCounts.onDemand, 0, 'the second backend on the shared device compiled none: it reused the first\'s');
    const x = randomTensor({ dtype: 'float32', dims: [2, 128] }, rng);
    const id = plan.inputIds.get('x')!;
    assert.deepEqual(floats((await prepared.run(new Map([[id, x]])))[0]), floats((await reference.run(new Map([[id, x]])))[0]));
    prepared.release();
    reference.release();
  } finally {
    backend.release();
    plain.release();
  }
});

test('webgpu: a corrupt section still fails with INTEGRITY, and no compile is left in flight when the device goes back', async () => {
  const proto = WebGpuBackend.prototype;
  const release = proto.release;
  const atRelease: PipelineCounts[] = [];
  proto.release = function (this: WebGpuBackend) {
    atRelease.push(this.pipelineCounts);
    release.call(this);
  };
  try {
    await assert.rejects(InferenceSession.create(`${server!.url}/slow/corrupt.kiln`, { executionProviders: ['webgpu'] }), (e: unknown) => e instanceof KilnError && e.code === 'INTEGRITY');
  } finally {
    proto.release = release;
  }
  assert.equal(atRelease.length, 1, 'the backend started during the download was released');
  assert.ok(atRelease[0]!.ahead > 0, `pipelines were compiled ahead: ${JSON.stringify(atRelease[0])}`);
  assert.equal(atRelease[0]!.pending, 0, 'no compile in flight at release');
});
