// The pool's split-or-not decision (runtime/backends/wasm/split-choice.ts) from given timings: the
// decision function itself, and the trial sequence a call shape goes through (split first, then
// alternating, the first call each way untimed, the choice fixed after SPLIT_TRIALS timed calls each
// way). No wall clock: every time is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SPLIT_SHAPES, SPLIT_MARGIN, SPLIT_TRIALS, SplitChooser, splitPays } from '../../runtime/backends/wasm/split-choice.ts';

test('splitPays: the split must beat one thread by the margin, in median and in mean', () => {
  assert.equal(SPLIT_MARGIN, 0.95);
  assert.equal(splitPays([1, 1, 1, 1], [0.5, 0.6, 0.55, 0.6]), true);
  assert.equal(splitPays([1, 1, 1, 1], [0.96, 0.96, 0.96, 0.96]), false, 'within the margin: one thread (it needs no free core)');
  assert.equal(splitPays([1, 1, 1, 1], [0.94, 0.94, 0.94, 0.94]), true);
  assert.equal(splitPays([1, 1, 1, 1], [0.4, 9, 0.45, 0.5]), false, 'one stalled split call of four: faster in median, slower in mean');
  assert.equal(splitPays([8, 8, 8, 8], [4, 9, 4.5, 4.2]), true, 'a slow split call that costs less than the others save');
  assert.equal(splitPays([0.2, 0.2, 0.2, 0.2], [0.1, 0.7, 0.8, 0.1]), false, 'two stalled of four: slower in median too');
  assert.equal(splitPays([1, 3, 3, 1], [1.5, 1.6, 1.7, 1.8]), true, 'even counts: the median is the mean of the middle two (2 vs 1.65)');
  assert.equal(splitPays([], [1]), true, 'nothing measured one way: split, as before the chooser');
});

/** Drives one shape through its trials with the given times; returns the ways the calls ran. */
function drive(c: SplitChooser, key: string, oneWayMs: number, splitMs: number, calls: number): boolean[] {
  const ways: boolean[] = [];
  for (let i = 0; i < calls; i++) {
    const split = c.way(key);
    ways.push(split);
    if (c.trying(key)) c.record(key, split, split ? splitMs : oneWayMs);
  }
  return ways;
}

test('SplitChooser: split first, alternating, first call each way untimed, then the faster way for good', () => {
  const trialCalls = 2 * (SPLIT_TRIALS + 1);
  const c = new SplitChooser();
  const slowSplit = drive(c, 'g64x512x128', 0.18, 0.6, trialCalls + 5);
  assert.deepEqual(slowSplit.slice(0, trialCalls), Array.from({ length: trialCalls }, (_, i) => i % 2 === 0));
  assert.deepEqual(slowSplit.slice(trialCalls), [false, false, false, false, false], 'split slower: one thread from then on');
  assert.equal(c.choice('g64x512x128'), false);
  assert.equal(c.trying('g64x512x128'), false);

  const fastSplit = drive(c, 'g512x512x512', 7.7, 4.1, trialCalls + 3);
  assert.deepEqual(fastSplit.slice(trialCalls), [true, true, true]);
  assert.equal(c.choice('g512x512x512'), true);
  assert.equal(c.choice('g64x512x128'), false, 'shapes decide independently');
});

test('SplitChooser: the untimed first call each way does not count (a cold first split call decides nothing)', () => {
  const c = new SplitChooser();
  c.record('k', c.way('k'), 50); // first split call: cold, 50 ms, untimed
  c.record('k', c.way('k'), 1); // first one-way call: untimed
  for (let i = 0; i < SPLIT_TRIALS; i++) {
    assert.equal(c.choice('k'), undefined);
    assert.equal(c.way('k'), true);
    c.record('k', true, 0.5);
    assert.equal(c.way('k'), false);
    c.record('k', false, 1);
  }
  assert.equal(c.choice('k'), true);
});

test('SplitChooser: past MAX_SPLIT_SHAPES new shapes split untimed; records for unknown shapes are ignored', () => {
  const c = new SplitChooser();
  for (let i = 0; i < MAX_SPLIT_SHAPES; i++) c.way(`s${i}`);
  assert.equal(c.way('one too many'), true);
  assert.equal(c.trying('one too many'), false);
  c.record('never seen', true, 1);
  assert.equal(c.choice('never seen'), undefined);
});
