// run()'s arguments after the feeds as onnxruntime-web takes them (runtime/api/run-arguments.ts):
// options alone, names then options, and names mapped to null or to a pre-allocated tensor that is
// filled in place and returned as the same object (an onnxruntime-web Tensor too). Before, any object
// there crashed with "outputs is not iterable". Values are checked against a float64 MatMul and an
// ArgMax written here; on wasm the filled array must come straight from the module's memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { KilnError } from '../../core/errors.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
console.log(`run arguments tests: KILN_TEST_SEED=${rng.seed}`);
const [M, K, N] = [5, 6, 7];
const b = Float32Array.from(rng.floats(K * N, -1, 1));
const a = Float32Array.from(rng.floats(M * K, -1, 1));
const model = encodeOnnxModel({
  nodes: [
    { opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] },
    { opType: 'ArgMax', inputs: ['a'], outputs: ['idx'], attrs: { axis: 1, keepdims: 0 } },
  ],
  inputs: [{ name: 'a', dtype: 'float32', dims: [M, K] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }, { name: 'idx', dtype: 'int64', dims: [M] }],
  initializers: { b: new Tensor('float32', b, [K, N]) },
});
const feeds = { a: new Tensor('float32', a, [M, K]) };

const yWant = Array.from({ length: M * N }, (_, i) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += a[Math.floor(i / N) * K + k]! * b[k * N + (i % N)]!;
  return s;
});
const idxWant = Array.from({ length: M }, (_, r) => {
  let best = 0;
  for (let k = 1; k < K; k++) if (a[r * K + k]! > a[r * K + best]!) best = k;
  return BigInt(best);
});

function expectValues(out: Record<string, AnyTensor>, what: string): void {
  const y = out['y']!.data as Float32Array;
  for (let i = 0; i < M * N; i++) assert.ok(Math.abs(y[i]! - yWant[i]!) <= 1e-5 + 1e-5 * Math.abs(yWant[i]!), `${what}: y[${i}] = ${y[i]}, want ${yWant[i]} (seed ${rng.seed})`);
  assert.deepEqual(Array.from(out['idx']!.data as BigInt64Array), idxWant, `${what}: idx`);
}

const rejectsWith = (p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> =>
  assert.rejects(p, (e: unknown) => e instanceof KilnError && e.code === code && pattern.test(e.message));

for (const provider of ['js', 'wasm', 'webgpu'] as const) {
  test(`${provider}: options alone, names then options, and a map of names to null give the outputs asked for`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider] });
    try {
      const viaOptions = await s.run(feeds, { logSeverityLevel: 3, tag: 'first' });
      assert.deepEqual(Object.keys(viaOptions).sort(), ['idx', 'y']);
      expectValues(viaOptions, 'run(feeds, options)');
      assert.deepEqual(Object.keys(await s.run(feeds, ['idx'], { tag: 'second' })), ['idx']);
      const viaNulls = await s.run(feeds, { y: null });
      assert.deepEqual(Object.keys(viaNulls), ['y']);
      // an object naming no output is options, as in onnxruntime-web
      assert.deepEqual(Object.keys(await s.run(feeds, { terminate: false })).sort(), ['idx', 'y']);
    } finally {
      await s.release();
    }
  });

  test(`${provider}: pre-allocated outputs are filled in place and returned as the same objects`, async () => {
    const s = await InferenceSession.create(model, { executionProviders: [provider] });
    try {
      const y = new Tensor('float32', new Float32Array(M * N).fill(Number.NaN), [M, N]);
      const idx = new Tensor('int64', new BigInt64Array(M).fill(-1n), [M]);
      const sources: ArrayBufferLike[] = [];
      const ownSet = y.data.set.bind(y.data);
      y.data.set = (src: ArrayLike<number>, offset?: number) => {
        if (ArrayBuffer.isView(src)) sources.push(src.buffer);
        ownSet(src, offset);
      };
      for (let run = 0; run < 2; run++) {
        const out = await s.run(feeds, { y, idx: null });
        assert.equal(out['y'], y, 'the pre-allocated tensor itself comes back');
        assert.ok(out['idx'] instanceof Tensor && out['idx'] !== idx);
        expectValues(out, `run ${run}`);
      }
      // on wasm straight from the module's memory (a view into it, not an array of the run's own)
      if (provider === 'wasm') assert.ok(sources.length === 2 && sources.every((buf) => buf.byteLength > M * N * 4), `filled from ${sources.map((x) => x.byteLength).join(', ')} byte buffers`);
      const both = await s.run(feeds, { y, idx });
      assert.equal(both['idx'], idx);
      expectValues(both, 'both pre-allocated');
      // onnxruntime-web's own Tensor is filled and returned as well (a caller that switched imports)
      const ortY = new ort.Tensor('float32', new Float32Array(M * N), [M, N]);
      const viaOrt = await s.run(feeds, { y: ortY as unknown as AnyTensor }); // another library's Tensor class, the same fields
      assert.equal(viaOrt['y'], ortY);
      expectValues({ ...viaOrt, idx }, 'onnxruntime-web tensor');
    } finally {
      await s.release();
    }
  });
}

test("webgpu with preferredOutputLocation 'gpu-buffer': a pre-allocated CPU tensor still gets its output", async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  try {
    const y = new Tensor('float32', new Float32Array(M * N), [M, N]);
    const out = await s.run(feeds, { y, idx: null });
    assert.equal(out['y'], y);
    assert.equal(out['idx']!.location, 'gpu-buffer', 'the output without a tensor stays where the session puts outputs');
    expectValues({ y, idx: new Tensor('int64', await out['idx']!.getData() as BigInt64Array, [M]) }, 'gpu-buffer session');
    out['idx']!.dispose();
  } finally {
    await s.release();
  }
});

test('bad fetches and pre-allocated outputs are typed errors before any work', async () => {
  const s = await InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const y = (dims: number[], type: 'float32' | 'int32' = 'float32'): AnyTensor => new Tensor(type, type === 'float32' ? new Float32Array(dims.reduce((p, q) => p * q, 1)) : new Int32Array(dims.reduce((p, q) => p * q, 1)), dims);
    await rejectsWith(s.run(feeds, []), 'INVALID_ARGUMENT', /fetches is empty/);
    await rejectsWith(s.run(feeds, ['nope']), 'INPUT_MISMATCH', /unknown output 'nope'.*y, idx/);
    await rejectsWith(s.run(feeds, ['y', 'y']), 'INVALID_ARGUMENT', /twice/);
    await rejectsWith(s.run(feeds, [3] as unknown as string[]), 'INVALID_ARGUMENT', /not an output name/); // a JavaScript caller's mistake
    await rejectsWith(s.run(feeds, 'y' as unknown as string[]), 'INVALID_ARGUMENT', /expected fetches or options/); // likewise
    await rejectsWith(s.run(feeds, ['y'], 5 as unknown as object), 'INVALID_ARGUMENT', /options must be an object/); // likewise
    await rejectsWith(s.run(feeds, y([M, N]) as unknown as string[]), 'INVALID_ARGUMENT', /cannot be a Tensor/); // a JavaScript caller's mistake
    await rejectsWith(s.run(feeds, { y: y([N, M]) }), 'INPUT_MISMATCH', /'y'.*float32 \[5, 7\].*float32 \[7, 5\]/);
    await rejectsWith(s.run(feeds, { y: y([M, N], 'int32') }), 'INPUT_MISMATCH', /'y'.*float32 \[5, 7\].*int32 \[5, 7\]/);
    const shared = y([M, N]);
    await rejectsWith(s.run(feeds, { y: shared, idx: shared }), 'INVALID_ARGUMENT', /same tensor/);
    const short = { type: 'float32', dims: [M, N], data: new Float32Array(3), location: 'cpu' } as unknown as AnyTensor; // a hand-made object that lies about its size
    await rejectsWith(s.run(feeds, { y: short }), 'INPUT_MISMATCH', /holding 3 elements/);
    await rejectsWith(s.run(feeds, { tag: 'x' }, { tag: 'y' }), 'INVALID_ARGUMENT', /options given twice/);
    const onGpu = { type: 'float32', dims: [M, N], location: 'gpu-buffer' } as unknown as AnyTensor; // a GPU tensor's fields
    await rejectsWith(s.run(feeds, { y: onGpu }), 'UNSUPPORTED_FEATURE', /gpu-buffer/);
    expectValues(await s.run(feeds), 'the session still runs');
  } finally {
    await s.release();
  }
});
