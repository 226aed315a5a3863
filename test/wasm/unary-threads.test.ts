// The costly elementwise unary ops on the wasm thread pool (kernels/elementwise-unary/wasm.ts ->
// parallelRows over kiln_unary_part_f32's blocks of 2048 elements): 1, 2 and 3 threads give the same
// bits, the 1-thread output matches the op's reference (so it is no oracle of itself), and the 2- and
// 3-thread runs really dispatched to the pool (the first call of a shape runs split,
// runtime/backends/wasm/split-choice.ts). 150,001 elements: 74 whole blocks, a last block of 513, a
// tail that is no multiple of 4; every op's work is over the pool's threshold. Seeded inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { bytesOf, jobsDuring, expectWorkersParkedThenGone } from '../helpers/pool-jobs.ts';

const rng = testRng(import.meta.url);
const N = 150_001;

async function sameOnThreads(opType: string, lo: number, hi: number, attrs: Record<string, string | number> = {}, opset = 20): Promise<void> {
  const bytes = encodeOnnxModel({ nodes: [{ opType, inputs: ['x'], outputs: ['y'], attrs }], inputs: [{ name: 'x', dtype: 'float32', dims: [N] }], outputs: [{ name: 'y', dtype: 'float32' }], opsets: { '': opset } });
  const x = new Tensor('float32', Float32Array.from(rng.floats(N, lo, hi)), [N]);
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = (await ref.run({ x }))['y']!;
  await ref.release();
  let one: AnyTensor | undefined;
  for (const numThreads of [1, 2, 3]) {
    const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const { value: out, jobs } = await jobsDuring(() => s.run({ x }));
      const got = out['y']!;
      assert.deepEqual(s.lastPlacement?.steps.map((st) => st.implementation), ['wasm'], `${opType}: ran its wasm kernel`);
      if (numThreads > 1) assert.ok(jobs >= 1, `${opType}: split across ${numThreads} threads`);
      else assert.equal(jobs, 0, `${opType}: one thread publishes no job`);
      if (!one) {
        one = got;
        assert.equal(compareTensors(got, want, { rtol: 1e-5, atol: 1e-6 }), undefined, `${opType}: 1 thread vs the reference (seed ${rng.seed})`);
      } else {
        const a = bytesOf(one), b = bytesOf(got);
        assert.ok(a.length === b.length && b.every((v, i) => v === a[i]), `${opType}: ${numThreads} threads differ from 1 (seed ${rng.seed})`);
      }
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
}

test(`Gelu (erf and tanh forms), Erf, Tanh, Sigmoid, Exp, Log on 1, 2, 3 threads: same bits, = reference, split (seed ${rng.seed})`, async () => {
  await sameOnThreads('Gelu', -6, 6);
  await sameOnThreads('Gelu', -6, 6, { approximate: 'tanh' });
  await sameOnThreads('Erf', -4, 4, {}, 13);
  await sameOnThreads('Tanh', -5, 5, {}, 13);
  await sameOnThreads('Sigmoid', -12, 12, {}, 13);
  await sameOnThreads('Exp', -20, 20, {}, 13);
  await sameOnThreads('Log', 1e-3, 50, {}, 13);
});
