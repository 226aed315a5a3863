// Calls of at least ALWAYS_SPLIT_MACS multiply-adds split on every call (runtime/backends/wasm/
// thread-pool.ts), without the split choice's timed trials, which alternate split and one-thread
// calls on a shape's first calls (split-choice.ts); smaller calls still go through the trials. Counted
// as jobs published per run (test/helpers/pool-jobs.ts), so a call kept on one thread shows as 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { ALWAYS_SPLIT_MACS, MIN_PARALLEL_MACS } from '../../runtime/backends/wasm/thread-pool.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { expectWorkersParkedThenGone, jobsDuring } from '../helpers/pool-jobs.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

/** A MatMul [m, k] x [k, n] and the jobs each of `runs` runs published on 2 threads. */
async function jobsPerRun(m: number, k: number, n: number, runs: number): Promise<number[]> {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [m, k] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { b: new Tensor('float32', Float32Array.from(rng.floats(k * n, -1, 1)), [k, n]) },
  });
  const a = new Tensor('float32', Float32Array.from(rng.floats(m * k, -1, 1)), [m, k]);
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 2 }] });
  try {
    const jobs: number[] = [];
    for (let i = 0; i < runs; i++) jobs.push((await jobsDuring(() => s.run({ a }))).jobs);
    return jobs;
  } finally {
    await s.release();
  }
}

test(`a MatMul of ALWAYS_SPLIT_MACS splits on every run; one of 4 x MIN_PARALLEL_MACS has one-thread trials (seed ${rng.seed})`, async () => {
  assert.equal(512 * 512 * 256, ALWAYS_SPLIT_MACS);
  assert.deepEqual(await jobsPerRun(512, 512, 256, 6), [1, 1, 1, 1, 1, 1], 'every call split');
  // the trials alternate, split first: the second call runs on one thread
  assert.ok(4 * MIN_PARALLEL_MACS < ALWAYS_SPLIT_MACS);
  const small = await jobsPerRun(256, 256, 128, 6);
  assert.deepEqual(small.slice(0, 2), [1, 0], `trials: ${small.join(', ')}`);
  await expectWorkersParkedThenGone();
});
