// GPU-resident tensors (issue 13, item 3): Tensor.fromGpuBuffer, preferredOutputLocation, a
// gpu-buffer output fed back with no upload and no readback, and the typed errors around them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { getGpu } from '../../runtime/backends/webgpu/gpu-provider.ts';
import { acquireGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';

// y = x * x + bias; z = y - x: y fed back as x gives a chain whose answer is checked on the host.
const model = encodeOnnxModel({
  nodes: [
    { opType: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
    { opType: 'Add', inputs: ['sq', 'bias'], outputs: ['y'] },
    { opType: 'Sub', inputs: ['y', 'x'], outputs: ['z'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: [2, 4] }],
  outputs: [{ name: 'y', dtype: 'float32' }, { name: 'z', dtype: 'float32' }],
  initializers: { bias: new Tensor('float32', [0.5, -0.25, 0.125, 0], [4]) },
});

const step = (x: Float32Array): { y: Float32Array; z: Float32Array } => {
  const y = x.map((v, i) => Math.fround(Math.fround(v * v) + [0.5, -0.25, 0.125, 0][i % 4]!));
  return { y, z: y.map((v, i) => Math.fround(v - x[i]!)) };
};

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof KilnError && e.code === code && message.test(e.message));
}

test('gpu-buffer outputs stay on the GPU, download on getData(), and feed back with no upload or readback', async () => {
  const rng = testRng(import.meta.url, 'round trip');
  const x0 = Float32Array.from({ length: 8 }, () => rng.range(-1, 1));
  const s = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: { y: 'gpu-buffer' } });
  try {
    let x: Tensor = new Tensor('float32', x0, [2, 4]);
    let host: Float32Array = x0;
    for (let i = 0; i < 3; i++) {
      const out = await s.run({ x });
      const want = step(host);
      assert.equal(out.y!.location, 'gpu-buffer');
      assert.equal(out.z!.location, 'cpu');
      assert.throws(() => out.y!.data, (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /getData/.test(e.message));
      assert.deepEqual(Array.from(out.z!.data as Float32Array), Array.from(want.z), `step ${i} (seed ${rng.seed})`);
      assert.deepEqual(Array.from(await out.y!.getData() as Float32Array), Array.from(want.y), `step ${i} (seed ${rng.seed})`);
      x.dispose();
      x = out.y!;
      host = want.y;
    }
    // Fed back: the caller's buffer is bound, so the next run neither uploads x nor reads y back.
    const device = s.gpuDevice!;
    const writes: number[] = [];
    const queue = device.queue;
    const original = queue.writeBuffer.bind(queue);
    queue.writeBuffer = ((buffer: GPUBuffer, offset: number, data: BufferSource, ...rest: number[]) => {
      writes.push(buffer.size);
      return original(buffer, offset, data as ArrayBufferView<ArrayBuffer>, ...rest);
    }) as GPUQueue['writeBuffer'];
    const before = s.gpuAllocations!.buffers;
    const out = await s.run({ x });
    queue.writeBuffer = original;
    assert.deepEqual(writes, [], 'a gpu-buffer feed is bound, not uploaded');
    assert.equal(out.y!.location, 'gpu-buffer');
    assert.deepEqual(Array.from(await out.y!.getData() as Float32Array), Array.from(step(host).y));
    x.dispose();
    out.y!.dispose();
    // The loop's buffers came back to the pool: further turns create none.
    let y = (await s.run({ x: new Tensor('float32', x0, [2, 4]) })).y!;
    for (let i = 0; i < 4; i++) {
      const next = (await s.run({ x: y })).y!;
      y.dispose();
      y = next;
    }
    y.dispose();
    assert.equal(s.gpuAllocations!.buffers - before, 0, 'after the warm-up turns above, a feed-back loop creates no GPU buffer');
  } finally {
    await s.release();
  }
});

test('Tensor.fromGpuBuffer: a buffer the caller made on session.gpuDevice is read in place', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['webgpu'] });
  try {
    const device = s.gpuDevice!;
    const x = Float32Array.from([1, 2, 3, 4, -1, -2, -3, -4]);
    const buffer = device.createBuffer({ size: 32, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(buffer, 0, x);
    let disposed = 0;
    const t = Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: [2, 4], dispose: () => disposed++ });
    assert.equal(t.location, 'gpu-buffer');
    const out = await s.run({ x: t });
    assert.equal(out.y!.location, 'cpu');
    assert.deepEqual(Array.from(out.y!.data as Float32Array), Array.from(step(x).y));
    t.dispose();
    t.dispose();
    assert.equal(disposed, 1);
    assert.equal(t.location, 'none');
    await rejectsWith(s.run({ x: t }), 'INPUT_MISMATCH', /disposed/);
    await rejectsWith(t.getData(), 'RELEASED', /disposed/);
    buffer.destroy();
  } finally {
    await s.release();
  }
});

test('sessions share one GPUDevice: a gpu-buffer output of one session feeds another, which keeps it after the first is released', async () => {
  const rng = testRng(import.meta.url, 'two sessions');
  const x0 = Float32Array.from({ length: 8 }, () => rng.range(-1, 1));
  const a = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: { y: 'gpu-buffer' } });
  const b = await InferenceSession.create(model, { executionProviders: ['webgpu'] });
  try {
    assert.equal(a.gpuDevice, b.gpuDevice, 'one device for both sessions, as onnxruntime-web has');
    const y = (await a.run({ x: new Tensor('float32', x0, [2, 4]) })).y!;
    assert.equal(y.location, 'gpu-buffer');
    const want = step(step(x0).y);
    const fromB = await b.run({ x: y });
    assert.deepEqual(Array.from(fromB.y!.data as Float32Array), Array.from(want.y));
    assert.deepEqual(Array.from(fromB.z!.data as Float32Array), Array.from(want.z));
    await a.release();
    // a's output tensor still holds its buffer (the device lives on for b) until the caller disposes it
    assert.deepEqual(Array.from((await b.run({ x: y })).y!.data as Float32Array), Array.from(want.y));
    y.dispose();
    await rejectsWith(b.run({ x: y }), 'INPUT_MISMATCH', /disposed/);
    assert.deepEqual(Array.from((await b.run({ x: new Tensor('float32', x0, [2, 4]) })).y!.data as Float32Array), Array.from(step(x0).y));
  } finally {
    await a.release();
    await b.release();
  }
});

test('the shared device holds one error-scope section at a time: a second waits until the first unlocks', async () => {
  const first = await acquireGpuDevice();
  const second = await acquireGpuDevice('software');
  try {
    assert.equal(first.device, second.device);
    assert.equal(second.caps.software, true, 'caps follow each user\'s kernelTuning');
    const order: string[] = [];
    const unlockFirst = await first.lockScopes();
    const waiting = second.lockScopes().then((unlock) => {
      order.push('second locked');
      unlock();
    });
    first.device.pushErrorScope('validation');
    first.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }); // invalid usage: caught by first's scope
    await new Promise((r) => setImmediate(r));
    order.push('first popping');
    const error = await first.device.popErrorScope();
    unlockFirst();
    await waiting;
    assert.ok(error, 'the invalid buffer was caught by the scope that was open');
    assert.deepEqual(order, ['first popping', 'second locked']);
  } finally {
    first.release();
    second.release();
  }
});

test('sessions prepared and run at once on the shared device: scoped runs (a caller\'s buffer) beside new sessions preparing', async () => {
  const rng = testRng(import.meta.url, 'concurrent');
  const x0 = Float32Array.from({ length: 8 }, () => rng.range(-1, 1));
  const a = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: { y: 'gpu-buffer' } });
  const sessions: InferenceSession[] = [a];
  try {
    const y = (await a.run({ x: new Tensor('float32', x0, [2, 4]) })).y!;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const callers = a.gpuDevice!.createBuffer({ size: 32, usage });
    a.gpuDevice!.queue.writeBuffer(callers, 0, x0);
    const fed = Tensor.fromGpuBuffer(callers, { dataType: 'float32', dims: [2, 4] });
    const creating = Array.from({ length: 3 }, () => InferenceSession.create(model, { executionProviders: ['webgpu'] }));
    const runs = [a.run({ x: fed }), a.run({ x: y }), a.run({ x: fed })];
    const created = await Promise.all(creating);
    sessions.push(...created);
    const [r1, r2, r3] = await Promise.all(runs);
    const once = step(x0);
    const twice = step(once.y);
    assert.deepEqual(Array.from(await r1!.z!.getData() as Float32Array), Array.from(once.z));
    assert.deepEqual(Array.from(await r2!.z!.getData() as Float32Array), Array.from(twice.z));
    assert.deepEqual(Array.from(await r3!.z!.getData() as Float32Array), Array.from(once.z));
    for (const s of created) assert.deepEqual(Array.from((await s.run({ x: fed })).z!.data as Float32Array), Array.from(once.z));
    callers.destroy();
  } finally {
    for (const s of sessions) await s.release();
  }
});

test('gpu-buffer errors: wrong size, wrong type, another device, a destroyed buffer, a CPU session', async () => {
  const a = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  const adapter = await getGpu()!.requestAdapter();
  const other = await adapter!.requestDevice(); // a device made outside Kiln
  const cpu = await InferenceSession.create(model, { executionProviders: ['wasm'], preferredOutputLocation: 'gpu-buffer' });
  try {
    const device = a.gpuDevice!;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const small = device.createBuffer({ size: 16, usage });
    assert.throws(() => Tensor.fromGpuBuffer(small, { dataType: 'float32', dims: [2, 4] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /needs 32 bytes/.test(e.message));
    // @ts-expect-error float16 is not a type a caller's GPU buffer may hold in Kiln's layout
    assert.throws(() => Tensor.fromGpuBuffer(small, { dataType: 'float16', dims: [2] }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /dataType/.test(e.message));
    const x = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]);
    const fromA = (await a.run({ x })).y!;
    assert.equal(fromA.location, 'gpu-buffer');
    // A buffer made on another device: WebGPU's validation catches it, typed.
    const foreign = Tensor.fromGpuBuffer(other.createBuffer({ size: 32, usage }), { dataType: 'float32', dims: [2, 4] });
    await rejectsWith(a.run({ x: foreign }), 'INPUT_MISMATCH', /could not be used/);
    const destroyed = device.createBuffer({ size: 32, usage });
    destroyed.destroy();
    await rejectsWith(a.run({ x: Tensor.fromGpuBuffer(destroyed, { dataType: 'float32', dims: [2, 4] }) }), 'INPUT_MISMATCH', /could not be used/);
    // The session still works after each refusal.
    assert.deepEqual(Array.from(await (await a.run({ x })).y!.getData() as Float32Array), Array.from(step(x.data).y));
    await rejectsWith(cpu.run({ x: fromA }), 'INPUT_MISMATCH', /runs on wasm/);
    assert.equal((await cpu.run({ x })).y!.location, 'cpu', 'a CPU session returns outputs on the CPU');
    await assert.rejects(InferenceSession.create(model, { executionProviders: ['cpu'], preferredOutputLocation: { nope: 'gpu-buffer' } }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /nope/.test(e.message));
    await assert.rejects(InferenceSession.create(model, { executionProviders: ['cpu'], preferredOutputLocation: 'gpu' as 'cpu' }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT');
  } finally {
    await a.release();
    other.destroy();
    await cpu.release();
  }
});
