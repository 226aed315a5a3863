// Bad input must give a typed KilnError with a useful message: never a hang, crash or wrong answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';
import { getGpu } from '../../runtime/backends/webgpu/gpu-provider.ts';

const addModel: WriterModel = {
  nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
  inputs: [{ name: 'a', dtype: 'float32', dims: ['batch', 3] }, { name: 'b', dtype: 'float32', dims: [3] }],
  outputs: [{ name: 'y', dtype: 'float32' }],
};
const addBytes = encodeOnnxModel(addModel);

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KilnError, `expected a KilnError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

for (const backend of ['js', 'wasm', 'webgpu'] as const) {
  test(`${backend}: truncated models are rejected at every cut point`, async () => {
    // Every prefix of a valid model must fail cleanly (or, rarely, parse into a smaller valid model).
    for (let cut = 0; cut < addBytes.length; cut++) {
      try {
        const s = await InferenceSession.create(addBytes.subarray(0, cut), { executionProviders: [backend] });
        await s.release();
      } catch (e) {
        assert.ok(e instanceof KilnError, `cut at ${cut}: ${String(e)}`);
      }
    }
    await rejectsWith(InferenceSession.create(addBytes.subarray(0, addBytes.length - 3), { executionProviders: [backend] }), 'INVALID_MODEL', /truncated|corrupt|not an ONNX|graph/);
  });

  test(`${backend}: a non-model file is rejected clearly`, async () => {
    await rejectsWith(InferenceSession.create(new TextEncoder().encode('<html>404 Not Found</html>'), { executionProviders: [backend] }), 'INVALID_MODEL', /ONNX|protobuf/);
    await rejectsWith(InferenceSession.create(new Uint8Array(0), { executionProviders: [backend] }), 'INVALID_MODEL', /empty/);
  });

  test(`${backend}: every unsupported op is named at create, with node names`, async () => {
    const bytes = encodeOnnxModel({
      nodes: [
        { opType: 'FancyOp', name: 'first', inputs: ['a'], outputs: ['t'] },
        { opType: 'FancyOp', name: 'second', inputs: ['t'], outputs: ['u'] },
        { opType: 'Relu', inputs: ['u'], outputs: ['v'] },
        { opType: 'Whatever', domain: 'com.example', name: 'third', inputs: ['v'], outputs: ['y'] },
      ],
      inputs: [{ name: 'a', dtype: 'float32', dims: [2] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      opsets: { '': 17, 'com.example': 1 },
    });
    await rejectsWith(InferenceSession.create(bytes, { executionProviders: [backend] }), 'UNSUPPORTED_OPS', /FancyOp \(first, second\).*com\.example\.Whatever \(third\)/);
  });

  test(`${backend}: wrong input names, dtypes and shapes say expected vs given`, async () => {
    const s = await InferenceSession.create(addBytes, { executionProviders: [backend] });
    const a = new Tensor('float32', new Float32Array(6), [2, 3]);
    const b = new Tensor('float32', new Float32Array(3), [3]);
    await rejectsWith(s.run({ a, c: b }), 'INPUT_MISMATCH', /unknown input 'c'.*a, b/);
    await rejectsWith(s.run({ a }), 'INPUT_MISMATCH', /missing input 'b'/);
    await rejectsWith(s.run({ a, b: new Tensor('int32', new Int32Array(3), [3]) }), 'INPUT_MISMATCH', /expected float32, given int32/);
    await rejectsWith(s.run({ a, b: new Tensor('float32', new Float32Array(4), [4]) }), 'INPUT_MISMATCH', /expected shape \[3\], given \[4\]/);
    await rejectsWith(s.run({ a: new Tensor('float32', new Float32Array(6), [6]), b }), 'INPUT_MISMATCH', /expected shape \[batch, 3\], given \[6\]/);
    await rejectsWith(s.run({ a, b }, ['nope']), 'INPUT_MISMATCH', /unknown output 'nope'/);
    // The session still works after bad calls.
    const ok = await s.run({ a, b });
    assert.deepEqual([...ok.y!.dims], [2, 3]);
    await s.release();
    await rejectsWith(s.run({ a, b }), 'RELEASED', /released/);
  });

  test(`${backend}: a graph whose shapes do not broadcast fails at create`, async () => {
    const bytes = encodeOnnxModel({ ...addModel, inputs: [{ name: 'a', dtype: 'float32', dims: [2, 4] }, { name: 'b', dtype: 'float32', dims: [3] }] });
    await rejectsWith(InferenceSession.create(bytes, { executionProviders: [backend] }), 'INVALID_GRAPH', /do not broadcast/);
  });
}

test('tensors too large for the device fail with DEVICE_LIMIT', async () => {
  // One element over the adapter's per-binding limit (1 GiB on SwiftShader); fails before allocating.
  const adapter = await getGpu()?.requestAdapter();
  assert.ok(adapter, 'a WebGPU adapter is needed for this test');
  const elements = adapter.limits.maxStorageBufferBindingSize / 4 + 1;
  const bytes = encodeOnnxModel({ ...addModel, inputs: [{ name: 'a', dtype: 'float32', dims: [elements] }, { name: 'b', dtype: 'float32', dims: [1] }] });
  await rejectsWith(InferenceSession.create(bytes, { executionProviders: ['webgpu'] }), 'DEVICE_LIMIT', /binding limit/);
});

test('an unknown execution provider list fails with DEVICE_UNAVAILABLE naming each reason', async () => {
  // @ts-expect-error: deliberately wrong provider name, as a JavaScript caller could pass
  await rejectsWith(InferenceSession.create(addBytes, { executionProviders: ['tpu'] }), 'DEVICE_UNAVAILABLE', /tpu: unknown/);
});

test('bad Tensor construction is a typed error', () => {
  assert.throws(() => new Tensor('float32', new Float32Array(5), [2, 3]), (e: unknown) => e instanceof KilnError && /5 elements but dims \[2, 3\] need 6/.test(e.message));
  // @ts-expect-error: wrong array type on purpose, as a JavaScript caller could pass
  assert.throws(() => new Tensor('float32', new Int32Array(6), [2, 3]), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new Tensor('float32', new Float32Array(2), [-2]), (e: unknown) => e instanceof KilnError && /non-negative/.test(e.message));
});
