// InferenceSession behaviour: shapes that change between runs, external data, fetches, concurrency,
// and the WebGPU plan's promises (one submit per run, nothing allocated after the first run).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs/light.js';
import { onnxSchema } from '../../runtime/format/onnx/onnx-schema.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import type { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { randomTensor } from '../ops/op-harness.ts';

const chain = encodeOnnxModel({
  nodes: [
    { opType: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
    { opType: 'Add', inputs: ['sq', 'bias'], outputs: ['y'] },
    { opType: 'Sub', inputs: ['y', 'x'], outputs: ['z'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', 4] }],
  outputs: [{ name: 'y', dtype: 'float32' }, { name: 'z', dtype: 'float32' }],
  initializers: { bias: new Tensor('float32', [1, 2, 3, 4], [4]) },
});

function expected(x: Float32Array): { y: number[]; z: number[] } {
  const y = Array.from(x, (v, i) => Math.fround(Math.fround(v * v) + [1, 2, 3, 4][i % 4]!));
  return { y, z: y.map((v, i) => Math.fround(v - x[i]!)) };
}

for (const backend of ['js', 'wasm', 'webgpu'] as const) {
  test(`${backend}: symbolic batch dims re-plan per shape and give right answers`, async () => {
    const s = await InferenceSession.create(chain, { executionProviders: [backend] });
    for (const n of [1, 7, 3, 7]) {
      const x = randomTensor({ dtype: 'float32', dims: [n, 4] });
      const out = await s.run({ x });
      const want = expected(x.data as Float32Array);
      assert.deepEqual([...out.y!.dims], [n, 4]);
      assert.deepEqual(Array.from(out.y!.data as Float32Array), want.y);
      assert.deepEqual(Array.from(out.z!.data as Float32Array), want.z);
    }
    await s.release();
  });

  test(`${backend}: fetches return only the requested outputs`, async () => {
    const s = await InferenceSession.create(chain, { executionProviders: [backend] });
    const out = await s.run({ x: randomTensor({ dtype: 'float32', dims: [2, 4] }) }, ['z']);
    assert.deepEqual(Object.keys(out), ['z']);
    await s.release();
  });

  test(`${backend}: concurrent run() calls are serialized and each gets its own answer`, async () => {
    const s = await InferenceSession.create(chain, { executionProviders: [backend] });
    const xs = [2, 5, 2, 9].map((n) => randomTensor({ dtype: 'float32', dims: [n, 4] }));
    const outs = await Promise.all(xs.map((x) => s.run({ x })));
    outs.forEach((o, i) => assert.deepEqual(Array.from(o.y!.data as Float32Array), expected(xs[i]!.data as Float32Array).y));
    await s.release();
  });
}

test('webgpu: one submit per run and no GPU allocations after the first run', async () => {
  const s = await InferenceSession.create(chain, { executionProviders: ['webgpu'] });
  // Reach the device the way a debugging session would; the API does not expose it.
  const device = (s as unknown as { backend: WebGpuBackend }).backend.gpu.device;
  const counts = { buffers: 0, bindGroups: 0, pipelines: 0, submits: 0 };
  const wrap = <K extends keyof typeof counts>(obj: object, method: string, key: K): void => {
    const target = obj as Record<string, (...a: unknown[]) => unknown>;
    const original = target[method]!.bind(obj);
    target[method] = (...args: unknown[]) => {
      counts[key]++;
      return original(...args);
    };
  };
  wrap(device, 'createBuffer', 'buffers');
  wrap(device, 'createBindGroup', 'bindGroups');
  wrap(device, 'createComputePipelineAsync', 'pipelines');
  wrap(device.queue, 'submit', 'submits');
  const x = randomTensor({ dtype: 'float32', dims: [3, 4] });
  await s.run({ x }); // first run with this shape: plans and allocates
  const afterFirst = { ...counts };
  assert.ok(afterFirst.buffers > 0, 'the first run of a new shape allocates');
  for (let i = 0; i < 5; i++) await s.run({ x: randomTensor({ dtype: 'float32', dims: [3, 4] }) });
  assert.equal(counts.buffers, afterFirst.buffers, 'no buffers created after the first run');
  assert.equal(counts.bindGroups, afterFirst.bindGroups, 'no bind groups created after the first run');
  assert.equal(counts.pipelines, afterFirst.pipelines, 'no pipelines created after the first run');
  assert.equal(counts.submits - afterFirst.submits, 5, 'exactly one submit per run');
  await s.release();
});

test('external data: tensors stored in a side file load from bytes and from a sibling path', async () => {
  const root = protobuf.Root.fromJSON(onnxSchema);
  const ModelProto = root.lookupType('onnx.ModelProto');
  const weights = new Float32Array([0.5, -1, 2, 4]);
  const file = new Uint8Array(16 + weights.byteLength);
  file.set(new Uint8Array(weights.buffer), 16); // at an offset, as exporters align
  const bytes = ModelProto.encode(ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      node: [{ opType: 'Mul', input: ['x', 'w'], output: ['y'], name: 'mul' }],
      initializer: [{ name: 'w', dims: [4], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: '16' }] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
    },
  })).finish();
  const x = new Tensor('float32', [1, 2, 3, 4], [4]);
  const fromBytes = await InferenceSession.create(bytes, { executionProviders: ['cpu'], externalData: [{ path: 'weights.bin', data: file }] });
  assert.deepEqual(Array.from((await fromBytes.run({ x })).y!.data as Float32Array), [0.5, -2, 6, 16]);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ext-'));
  writeFileSync(join(dir, 'model.onnx'), bytes);
  writeFileSync(join(dir, 'weights.bin'), file);
  const fromPath = await InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['webgpu'] });
  assert.deepEqual(Array.from((await fromPath.run({ x })).y!.data as Float32Array), [0.5, -2, 6, 16]);
  await assert.rejects(InferenceSession.create(bytes, { executionProviders: ['cpu'] }), /weights\.bin/);
});
