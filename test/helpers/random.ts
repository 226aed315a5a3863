// Seeded random data for tests. The run has one base seed (scripts/run-tests.ts picks it fresh,
// prints it, and passes it on as KILN_TEST_SEED); each test file, and each test where order could
// vary, draws from its own stream derived from the base seed and a stable name. So one seed replays
// the whole run, and a single file run alone with that seed draws the same values. Browser tests
// draw in Node and pass the values into page.evaluate, so pages need no generator of their own.
import { randomInt } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.ts';

import { makeRng, mulberry32, type Rng } from './rng-core.ts';

export { makeRng, type Rng };

let base: number | undefined;

/** The run's base seed: KILN_TEST_SEED when given, else a fresh one (printed, so it can be replayed). */
export function baseSeed(): number {
  if (base !== undefined) return base;
  const given = process.env.KILN_TEST_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new Error(`KILN_TEST_SEED must be an integer in 0..2^32-1, got '${given}'`);
    base = n;
  } else {
    base = randomInt(2 ** 32 - 1);
    console.log(`random test data: KILN_TEST_SEED=${base} (not given; replay with it)`);
  }
  return base;
}

/** FNV-1a over the text, then one mulberry32 step to spread the bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return Math.floor(mulberry32(h)() * 2 ** 32) >>> 0;
}

/** A file URL (import.meta.url) becomes its repository-relative path, so names do not depend on the checkout's place. */
function stableName(part: string): string {
  return part.startsWith('file:') ? relative(repoRoot, fileURLToPath(part)).split('\\').join('/') : part;
}

/** The seed of the stream named by `parts` (e.g. import.meta.url, then a test's name). */
export function seedFor(...parts: string[]): number {
  return hash32(`${baseSeed()}:${parts.map(stableName).join('/')}`);
}

/**
 * A stream of its own for a file (`testRng(import.meta.url)`) or a test
 * (`testRng(import.meta.url, 'its name')`): the same values for the same base seed, whatever else ran.
 */
export function testRng(...parts: string[]): Rng {
  return makeRng(seedFor(...parts));
}
