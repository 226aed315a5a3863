// A model on the wasm backend at 1, 2 and 3 threads: the 1-thread answer within tolerance of the
// plain reference, the 2- and 3-thread answers bit for bit the 1-thread one (row-parallel kernels
// compute every row the same way whichever thread takes it), every step run by a wasm kernel, and the
// pool's workers parked and then gone after. With `split`, each multi-thread run must also have
// published a job to the pool (the first call of a shape runs split: split-choice.ts), and a 1-thread
// run none, so a case that never reached the pool cannot pass.
import assert from 'node:assert/strict';
import type { AnyTensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from './compare.ts';
import { expectWorkersParkedThenGone, jobsDuring } from './pool-jobs.ts';

export interface SameOnThreadsOptions {
  /** the 1-thread answer against the reference (default rtol 2e-4, atol 2e-5) */
  readonly rtol?: number;
  readonly atol?: number;
  readonly split?: boolean;
  /** how many steps the plan has after fusion (default: not checked) */
  readonly unfusedSteps?: number;
}

export async function expectSameOnThreads(bytes: Uint8Array, feeds: Record<string, AnyTensor>, seed: number, opts: SameOnThreadsOptions = {}): Promise<void> {
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = await ref.run(feeds);
  await ref.release();
  let one: Record<string, AnyTensor> | undefined;
  for (const numThreads of [1, 2, 3]) {
    const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
    try {
      const { value: got, jobs } = await jobsDuring(() => s.run(feeds));
      const steps = s.lastPlacement?.steps ?? [];
      assert.equal(s.lastPlacement?.threads, numThreads);
      assert.ok(steps.length > 0 && steps.every((st) => st.implementation === 'wasm'), `every step ran a wasm kernel: ${steps.map((st) => `${st.opType}@${st.implementation}`).join(', ')}`);
      if (opts.unfusedSteps !== undefined) assert.equal(steps.filter((st) => st.fusedInto === undefined).length, opts.unfusedSteps, 'steps after fusion');
      if (opts.split) {
        if (numThreads > 1) assert.ok(jobs >= 1, `split across ${numThreads} threads`);
        else assert.equal(jobs, 0, 'one thread publishes no job');
      }
      if (!one) {
        one = got;
        for (const k of Object.keys(want)) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: opts.rtol ?? 2e-4, atol: opts.atol ?? 2e-5 }), undefined, `1 thread ${k} (seed ${seed})`);
      } else {
        for (const k of Object.keys(one)) {
          const a = one[k]!.data as Float32Array, b = got[k]!.data as Float32Array;
          assert.ok(a.length === b.length && b.every((v, i) => Object.is(v, a[i])), `${k}: ${numThreads} threads differ from 1 (seed ${seed})`);
        }
      }
    } finally {
      await s.release();
    }
  }
  await expectWorkersParkedThenGone();
}
