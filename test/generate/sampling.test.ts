// Token choice and cache naming, checked on hand-made logits and names (generate.test.ts runs them in models).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { argmax, pickToken, seededUniform } from '../../runtime/generate/sampling.ts';

const fixed = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test('greedy is the first largest logit; top-k 1 and a tiny top-p reduce sampling to it', () => {
  const logits = [0.5, 2, -1, 2, 1.5];
  assert.equal(argmax(logits), 1);
  assert.equal(pickToken(logits, {}, fixed(0.99)), 1);
  assert.equal(pickToken(logits, { temperature: 0 }, fixed(0.99)), 1);
  for (const u of [0, 0.5, 0.999]) {
    assert.equal(pickToken(logits, { temperature: 1, topK: 1 }, fixed(u)), 1);
    assert.equal(pickToken(logits, { temperature: 1, topP: 0.01 }, fixed(u)), 1);
  }
});

test('sampling follows softmax(logits / temperature): probabilities 0.25 / 0.75 split the unit interval at 0.75', () => {
  const logits = [0, Math.log(3)];
  assert.equal(pickToken(logits, { temperature: 1 }, fixed(0.74)), 1);
  assert.equal(pickToken(logits, { temperature: 1 }, fixed(0.76)), 0);
  // temperature 0.5 squares the odds: 1/10 and 9/10
  assert.equal(pickToken(logits, { temperature: 0.5 }, fixed(0.89)), 1);
  assert.equal(pickToken(logits, { temperature: 0.5 }, fixed(0.91)), 0);
  // top-p 0.7 keeps only the 0.75 token
  assert.equal(pickToken(logits, { temperature: 1, topP: 0.7 }, fixed(0.99)), 1);
});

test('the seeded generator repeats for a seed and differs between seeds', () => {
  const a = seededUniform(42);
  const b = seededUniform(42);
  const c = seededUniform(43);
  const xs = Array.from({ length: 8 }, () => a());
  assert.deepEqual(Array.from({ length: 8 }, () => b()), xs);
  assert.notDeepEqual(Array.from({ length: 8 }, () => c()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('past/present names: Optimum, onnxruntime-genai, and a past without its present', () => {
  assert.deepEqual(findKvPairs(['input_ids', 'past_key_values.0.key', 'past_key_values.0.value'], ['logits', 'present.0.key', 'present.0.value']), [
    { past: 'past_key_values.0.key', present: 'present.0.key' },
    { past: 'past_key_values.0.value', present: 'present.0.value' },
  ]);
  assert.deepEqual(findKvPairs(['past_key_3', 'past_value_3'], ['present_key_3', 'present_value_3']), [
    { past: 'past_key_3', present: 'present_key_3' },
    { past: 'past_value_3', present: 'present_value_3' },
  ]);
  assert.deepEqual(findKvPairs(['input_ids'], ['logits']), []);
  assert.throws(() => findKvPairs(['past_key_values.1.key'], ['logits', 'present.0.key']), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_MODEL' && /present\.1\.key/.test(e.message));
});
