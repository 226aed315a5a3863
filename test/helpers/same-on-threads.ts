// A one-node model on the wasm backend at 1, 2 and 3 threads: the 1-thread answer within tolerance of
// the plain reference, the 2- and 3-thread answers bit for bit the 1-thread one (row-parallel kernels
// compute every row the same way whichever thread takes it), the step run by its wasm kernel, and the
// pool's workers parked and then gone after.
import assert from 'node:assert/strict';
import type { AnyTensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from './compare.ts';
import { expectWorkersParkedThenGone } from './pool-jobs.ts';

export async function expectSameOnThreads(bytes: Uint8Array, feeds: Record<string, AnyTensor>, seed: number): Promise<void> {
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = await ref.run(feeds);
  await ref.release();
  let one: Record<string, AnyTensor> | undefined;
  for (const numThreads of [1, 2, 3]) {
    const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const got = await s.run(feeds);
      assert.equal(s.lastPlacement?.threads, numThreads);
      assert.equal(s.lastPlacement?.steps[0]?.implementation, 'wasm', 'the op ran its wasm kernel');
      if (!one) {
        one = got;
        for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 2e-4, atol: 2e-5 }), undefined, `1 thread ${k} (seed ${seed})`);
      } else {
        for (const k of Object.keys(one)) {
          const a = one[k]!.data as Float32Array, b = got[k]!.data as Float32Array;
          assert.ok(b.every((v, i) => Object.is(v, a[i])), `${k}: ${numThreads} threads differ from 1 (seed ${seed})`);
        }
      }
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
}
