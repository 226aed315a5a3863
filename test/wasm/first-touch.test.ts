// A run's fresh output arrays have their pages touched while a split call's parts run on the pool's
// workers (runtime/backends/wasm/first-touch.ts, thread-pool.ts). The toucher writes one byte in every
// 4 KB step and the last byte, nothing else; a 2-thread session whose MatMul splits on every run
// (ALWAYS_SPLIT_MACS) returns the same bits as one thread, in arrays of its own per run (an earlier
// run's outputs stay as they were), next to a pre-allocated output filled in place. Seeded inputs
// (KILN_TEST_SEED replays).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { PageToucher, TOUCH_STRIDE } from '../../runtime/backends/wasm/first-touch.ts';
import { ALWAYS_SPLIT_MACS } from '../../runtime/backends/wasm/thread-pool.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { expectWorkersParkedThenGone, jobsDuring } from '../helpers/pool-jobs.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
console.log(`first-touch tests: KILN_TEST_SEED=${rng.seed}`);

test('the toucher writes at every 4 KB step and the last byte of each array, in batches, nothing else', () => {
  const buffer = new Uint8Array(3 * TOUCH_STRIDE + 300).fill(1);
  const arrays = [new Uint8Array(0), new Uint8Array(1).fill(1), new Uint8Array(TOUCH_STRIDE).fill(1), new Float32Array(new Uint8Array(TOUCH_STRIDE + 4).fill(1).buffer), buffer.subarray(100)];
  const t = new PageToucher(arrays);
  const expected = [[], [0], [0, TOUCH_STRIDE - 1], [0, TOUCH_STRIDE, TOUCH_STRIDE + 3], [0, TOUCH_STRIDE, 2 * TOUCH_STRIDE, 3 * TOUCH_STRIDE, 3 * TOUCH_STRIDE + 199]];
  const total = expected.reduce((n, e) => n + e.length, 0);
  let batches = 0;
  for (; t.pending; batches++) t.touch(3);
  assert.equal(batches, Math.ceil(total / 3), 'each batch touches 3 places until none is left');
  t.touch(5); // nothing left: a no-op
  arrays.forEach((a, i) => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const zeros = [...bytes.keys()].filter((j) => bytes[j] === 0);
    assert.deepEqual(zeros, expected[i], `array ${i}`);
  });
  assert.equal(buffer.subarray(0, 100).every((v) => v === 1), true, 'bytes before a view are not its to touch');
});

test(`a MatMul split on every run: outputs as on one thread, fresh arrays per run, a pre-allocated one beside them (seed ${rng.seed})`, async () => {
  const [m, k, n] = [512, 512, 256];
  assert.equal(m * k * n, ALWAYS_SPLIT_MACS);
  const bData = Float32Array.from(rng.floats(k * n, -1, 1));
  const model = encodeOnnxModel({
    nodes: [
      { opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] },
      { opType: 'Tanh', inputs: ['y'], outputs: ['t'] },
    ],
    inputs: [{ name: 'a', dtype: 'float32', dims: [m, k] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [m, n] }, { name: 't', dtype: 'float32', dims: [m, n] }],
    initializers: { b: new Tensor('float32', bData, [k, n]) },
  });
  const inputs = [0, 1].map(() => new Tensor('float32', Float32Array.from(rng.floats(m * k, -1, 1)), [m, k]));
  const one = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  const two = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: 2 }] });
  try {
    const want = [];
    for (const a of inputs) {
      const o = await one.run({ a });
      want.push({ y: Float32Array.from(o['y']!.data as Float32Array), t: Float32Array.from(o['t']!.data as Float32Array) });
    }
    const same = (got: Float32Array, exp: Float32Array, what: string): void => assert.ok(got.length === exp.length && got.every((v, i) => Object.is(v, exp[i])), `${what}: not the 1-thread bits`);
    // the first output against float64 sums at a few places, so the 1-thread run is no oracle of itself;
    // the bound is float32 summation's worst case in any order (k u sum |a b|, u = 2^-24), not a guess
    const a0 = inputs[0]!.data as Float32Array;
    for (const [i, j] of [[0, 0], [m - 1, n - 1], [301, 17]] as const) {
      let s = 0;
      let sAbs = 0;
      for (let p = 0; p < k; p++) {
        s += a0[i * k + p]! * bData[p * n + j]!;
        sAbs += Math.abs(a0[i * k + p]! * bData[p * n + j]!);
      }
      assert.ok(Math.abs(want[0]!.y[i * n + j]! - s) <= 1.01 * k * 2 ** -24 * sAbs, `y[${i},${j}] ${want[0]!.y[i * n + j]} vs ${s}`);
    }

    const first = await jobsDuring(() => two.run({ a: inputs[0]! }));
    assert.equal(first.jobs >= 1, true, 'the MatMul ran split');
    const y0 = first.value['y']!.data as Float32Array;
    const t0 = first.value['t']!.data as Float32Array;
    same(y0, want[0]!.y, 'run 1 y');
    same(t0, want[0]!.t, 'run 1 t');
    assert.ok(!(y0.buffer instanceof SharedArrayBuffer) && !(t0.buffer instanceof SharedArrayBuffer), 'outputs are not views of the shared memory');

    const second = await two.run({ a: inputs[1]! });
    same(second['y']!.data as Float32Array, want[1]!.y, 'run 2 y');
    same(second['t']!.data as Float32Array, want[1]!.t, 'run 2 t');
    assert.notEqual((second['y']!.data as Float32Array).buffer, y0.buffer, 'each run returns arrays of its own');
    same(y0, want[0]!.y, 'run 1 y after run 2');
    same(t0, want[0]!.t, 'run 1 t after run 2');

    // one output pre-allocated (filled in place), the other fresh
    const y = new Tensor('float32', new Float32Array(m * n), [m, n]);
    const third = await two.run({ a: inputs[0]! }, { y, t: null }); // fetches: y filled in place, t allocated
    assert.equal(third['y']!.data, y.data, 'the pre-allocated output is the caller array');
    same(y.data as Float32Array, want[0]!.y, 'pre-allocated y');
    same(third['t']!.data as Float32Array, want[0]!.t, 'fresh t beside it');
  } finally {
    await one.release();
    await two.release();
  }
  await expectWorkersParkedThenGone();
});
