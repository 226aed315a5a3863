// Mutated and truncated ONNX files are either rejected with a typed KilnError, or accepted and then
// run (or fail at run with a typed KilnError). An untyped error, an INTERNAL error (a Kiln bug by
// its own definition) or a hang fails the test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng, type Rng } from '../helpers/random.ts';
import { InferenceSession, KilnError, Tensor } from '../../runtime/node.ts';

const original = new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx')));
const INPUT_DIMS = [1, 3, 48, 192];
const ITERATIONS = 2000;
/** A hang guard per model (create + run); a healthy iteration takes milliseconds. */
const HANG_MS = 60_000;

function mutate(src: Uint8Array, rng: Rng): { kind: string; bytes: Uint8Array } {
  const at = rng.int(src.length);
  switch (rng.int(4)) {
    case 0: return { kind: 'truncated', bytes: src.subarray(0, at) };
    case 1: {
      const out = src.slice();
      for (let i = 0, n = 1 + rng.int(8); i < n; i++) out[rng.int(out.length)] = rng.int(256);
      return { kind: 'bytes changed', bytes: out };
    }
    case 2: {
      const junk = rng.bytes(1 + rng.int(16));
      const out = new Uint8Array(src.length + junk.length);
      out.set(src.subarray(0, at));
      out.set(junk, at);
      out.set(src.subarray(at), at + junk.length);
      return { kind: 'garbage inserted', bytes: out };
    }
    default: { // overwrite part of the varint-heavy graph header with 0xff
      const out = src.slice();
      const start = rng.int(Math.min(out.length, 4096));
      out.fill(0xff, start, start + 4);
      return { kind: 'header overwritten', bytes: out };
    }
  }
}

type Outcome = { stage: 'rejected' | 'run failed'; code: string } | { stage: 'ran' };

/** Loads the bytes and runs them once on `input`; a KilnError (other than INTERNAL) is an acceptable outcome, anything else throws. */
async function loadAndRun(bytes: Uint8Array, input: Float32Array): Promise<Outcome> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (e) {
    if (e instanceof KilnError && e.code !== 'INTERNAL') return { stage: 'rejected', code: e.code };
    throw e;
  }
  try {
    // The original's input: a mutated model that wants another name, type or shape must say so with a typed error.
    const feeds = Object.fromEntries(session.inputNames.map((name) => [name, new Tensor('float32', input.slice(), INPUT_DIMS)]));
    const out = await session.run(feeds);
    assert.ok(Object.keys(out).length > 0, 'an accepted model ran and gave no outputs');
    return { stage: 'ran' };
  } catch (e) {
    if (e instanceof KilnError && e.code !== 'INTERNAL') return { stage: 'run failed', code: e.code };
    throw e;
  } finally {
    await session.release();
  }
}

function withHangGuard<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${HANG_MS} ms (hang)`)), HANG_MS);
  });
  return Promise.race([work, guard]).finally(() => clearTimeout(timer));
}

test(`${ITERATIONS} mutated ONNX models are rejected, or run, or fail at run, always with typed errors`, { timeout: 30 * 60_000 }, async () => {
  const input = Float32Array.from(testRng(import.meta.url, 'input').floats(INPUT_DIMS.reduce((a, b) => a * b, 1), -1, 1));
  // The harness can tell a good model from a bad one: the original loads and runs.
  assert.deepEqual(await loadAndRun(original, input), { stage: 'ran' });
  const counts = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const rng = testRng(import.meta.url, `mutation ${i}`); // one stream per iteration: a failure names what to replay
    const { kind, bytes } = mutate(original, rng);
    let outcome: Outcome;
    try {
      outcome = await withHangGuard(loadAndRun(bytes, input), `iteration ${i} (${kind})`);
    } catch (e) {
      assert.fail(`iteration ${i} (${kind}, stream seed ${rng.seed}): ${e instanceof KilnError ? 'INTERNAL error' : 'untyped error'} ${String((e as Error).stack ?? e)}`);
    }
    const key = outcome.stage === 'ran' ? 'loaded and ran' : `${outcome.stage} ${outcome.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const table = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(', ');
  console.log(`onnx fuzz, ${ITERATIONS} mutated models: ${table}`);
});
