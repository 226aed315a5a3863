// Sampled variants: the slowest repeated work (the WebGPU 'hardware' kernel forms of every op case
// and conformance case: ~40% of the op suites' time on SwiftShader) runs on a share of the cases
// each run, picked from the run's seed, so CI stays within its 30 minutes (1817 s of tests with all
// of them on this machine in session 9), every case is covered across runs, and any run replays
// with its KILN_TEST_SEED.
// KILN_TEST_FULL=1 runs every variant of every case.
import { seedFor } from './random.ts';

/** The share of cases that also run their WebGPU 'hardware' kernel forms in a run. */
export const HARDWARE_FORMS_SHARE = 0.5;

/** Whether `id`'s sampled variant `variant` runs in this run: true for about `share` of ids, always under KILN_TEST_FULL=1. */
export function inSample(variant: string, id: string, share: number): boolean {
  if (process.env.KILN_TEST_FULL === '1') return true;
  return seedFor('sample', variant, id) / 2 ** 32 < share;
}
