// What the wasm thread-pool tests share: a tensor's bytes (to compare runs bit for bit), the jobs
// the pool published while a session ran (proof that a case really split), and the check that
// released pools leave their workers parked and nothing else.
import assert from 'node:assert/strict';
import type { AnyTensor } from '../../core/tensor.ts';
import { liveThreadWorkers, parkedThreadWorkers, terminateParkedThreadWorkers, whenNoThreadWorkers } from '../../runtime/backends/wasm/thread-pool.ts';

/**
 * Call once every pool of the test is released: each worker still alive is parked for the next
 * pool (none held by a released pool), and terminating the parked ones leaves no worker behind.
 */
export async function expectWorkersParkedThenGone(): Promise<void> {
  assert.equal(liveThreadWorkers(), parkedThreadWorkers(), 'every live pool worker is parked: none is held by a released pool');
  await terminateParkedThreadWorkers();
  await whenNoThreadWorkers();
  assert.equal(liveThreadWorkers(), 0);
}

export function bytesOf(t: AnyTensor): Uint8Array {
  if (Array.isArray(t.data)) throw new Error('a string tensor has no bytes');
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Jobs published on this thread while `f` runs: the pool's caller stores a split call's claim word
 * (slot 0 of its control block, thread-job.ts) with Atomics.store; a call that is not split never
 * does. (Counting Atomics.notify or the caller's claims is no proof: the caller skips the notify
 * while no worker sleeps, and awake workers may claim every part first.)
 */
export async function jobsDuring<T>(f: () => Promise<T>): Promise<{ value: T; jobs: number }> {
  const original = Atomics.store;
  let jobs = 0;
  Atomics.store = ((typedArray: Int32Array, index: number, value: number): number => {
    if (index === 0) jobs++;
    return original(typedArray, index, value);
  }) as typeof Atomics.store; // the pool calls it on Int32Arrays only
  try {
    return { value: await f(), jobs };
  } finally {
    Atomics.store = original;
  }
}
