// The pool's split-or-not decision (runtime/backends/wasm/split-choice.ts) from given timings: the
// decision function itself, and the trial sequence a call shape goes through (split first, then
// alternating, the first call each way untimed, the choice made after SPLIT_TRIALS timed calls each
// way), and the revisits after it (the other way once in a while, the interval doubling while the
// choice holds, a changed machine seen within a bounded number of calls). No wall clock: every time is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_REVISIT, MAX_REVISIT, MAX_SPLIT_SHAPES, SPLIT_MARGIN, SPLIT_TRIALS, SplitChooser, splitPays } from '../../runtime/backends/wasm/split-choice.ts';

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

/** Drives one shape for `calls` calls, each taking the given time its way; returns the ways the calls ran. */
function drive(c: SplitChooser, key: string, oneWayMs: number, splitMs: number, calls: number): boolean[] {
  const ways: boolean[] = [];
  for (let i = 0; i < calls; i++) {
    const split = c.way(key);
    ways.push(split);
    c.record(key, split, split ? splitMs : oneWayMs);
  }
  return ways;
}

const trialCalls = 2 * (SPLIT_TRIALS + 1);

test('SplitChooser: split first, alternating, first call each way untimed, then the faster way with a revisit every FIRST_REVISIT calls', () => {
  const c = new SplitChooser();
  const slowSplit = drive(c, 'g64x512x128', 0.18, 0.6, trialCalls + FIRST_REVISIT + 1);
  assert.deepEqual(slowSplit.slice(0, trialCalls), Array.from({ length: trialCalls }, (_, i) => i % 2 === 0));
  assert.deepEqual(slowSplit.slice(trialCalls), [...Array<boolean>(FIRST_REVISIT).fill(false), true], 'split slower: one thread, then one split call to look again');
  assert.equal(c.choice('g64x512x128'), false);
  assert.equal(c.trying('g64x512x128'), false);

  const fastSplit = drive(c, 'g512x512x512', 7.7, 4.1, trialCalls + FIRST_REVISIT + 1);
  assert.deepEqual(fastSplit.slice(trialCalls), [...Array<boolean>(FIRST_REVISIT).fill(true), false]);
  assert.equal(c.choice('g512x512x512'), true);
  assert.equal(c.choice('g64x512x128'), false, 'shapes decide independently');
});

test('SplitChooser: while the choice holds, revisits double their interval up to MAX_REVISIT', () => {
  const c = new SplitChooser();
  const ways = drive(c, 'k', 0.2, 0.6, trialCalls + 20_000).slice(trialCalls);
  const revisits = ways.flatMap((split, i) => (split ? [i] : []));
  const gaps = revisits.map((at, i) => at - (i > 0 ? revisits[i - 1]! : -1) - 1);
  const expected: number[] = [];
  for (let interval = FIRST_REVISIT, at = 0; at < ways.length; interval = Math.min(MAX_REVISIT, interval * 2)) {
    at += interval + 1;
    if (at <= ways.length) expected.push(interval);
  }
  assert.deepEqual(gaps, expected, 'calls of the chosen way between revisits');
  assert.ok(revisits.length < 30 && revisits.length / ways.length < 0.002, `${revisits.length} split calls in ${ways.length}`);
  assert.equal(c.choice('k'), false);
});

test('SplitChooser: a split that became fast is chosen within FIRST_REVISIT + 2 * (SPLIT_TRIALS - 1) calls of the next revisit', () => {
  const c = new SplitChooser();
  drive(c, 'k', 1, 1.6, trialCalls + 3 * FIRST_REVISIT + 10); // trials under a peer's spinning threads: one thread chosen, and confirmed twice
  assert.equal(c.choice('k'), false);
  // The peer is gone: splits now take half the time. At worst the next revisit is MAX_REVISIT calls away.
  let calls = 0;
  while (c.choice('k') === false && calls < MAX_REVISIT + FIRST_REVISIT + 2 * SPLIT_TRIALS) {
    const split = c.way('k');
    c.record('k', split, split ? 0.5 : 1);
    calls++;
  }
  assert.equal(c.choice('k'), true, `still one thread after ${calls} calls`);
  const ways = drive(c, 'k', 1, 0.5, FIRST_REVISIT);
  assert.deepEqual(ways, Array<boolean>(FIRST_REVISIT).fill(true), 'the new choice holds until its own first revisit');
});

test('SplitChooser: one revisit that beats the choice by chance does not flip it (the other way is re-measured first)', () => {
  const c = new SplitChooser();
  drive(c, 'k', 1, 1.6, trialCalls + FIRST_REVISIT); // one thread chosen; the next call is the revisit
  assert.equal(c.way('k'), true);
  c.record('k', true, 0.5); // a lucky split
  const after: boolean[] = [];
  for (let i = 0; i < 2 * (SPLIT_TRIALS - 1); i++) {
    const split = c.way('k');
    after.push(split);
    c.record('k', split, split ? 1.6 : 1); // splits back to slow
  }
  assert.deepEqual(after, Array.from({ length: 2 * (SPLIT_TRIALS - 1) }, (_, i) => i % 2 === 1), 'splits every other call while re-measuring');
  assert.equal(c.choice('k'), false);
  assert.deepEqual(drive(c, 'k', 1, 1.6, 2 * FIRST_REVISIT), Array<boolean>(2 * FIRST_REVISIT).fill(false), 'confirmed: the interval doubled');
});

test('SplitChooser: a chosen split keeps one slow call, and gives way to one thread once its median is slower, without waiting for a revisit', () => {
  const c = new SplitChooser();
  drive(c, 'k', 2, 1, trialCalls);
  assert.equal(c.choice('k'), true);
  c.record('k', c.way('k'), 9); // one pause: window [1, 1, 1, 9], median 1
  assert.equal(c.choice('k'), true, 'one slow call in four moves the mean, not the median');
  c.record('k', c.way('k'), 9); // the split now stalls often: window [1, 1, 9, 9], median 5 > 2 * margin
  assert.equal(c.choice('k'), false);
  assert.deepEqual(drive(c, 'k', 2, 1, FIRST_REVISIT + 1), [...Array<boolean>(FIRST_REVISIT).fill(false), true]);
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
