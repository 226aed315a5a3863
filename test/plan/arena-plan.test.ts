import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { ARENA_ALIGN, peakLiveBytes, planArena, type ArenaBlock } from '../../runtime/plan/arena-plan.ts';
import { testRng } from '../helpers/random.ts';

const overlapInTime = (a: ArenaBlock, b: ArenaBlock): boolean => a.first <= b.last && b.first <= a.last;

function checkLayout(blocks: readonly ArenaBlock[]): { size: number; peak: number } {
  const { offsets, size } = planArena(blocks);
  for (let i = 0; i < blocks.length; i++) {
    assert.equal(offsets[i]! % ARENA_ALIGN, 0, `block ${i} misaligned`);
    assert.ok(offsets[i]! + blocks[i]!.size <= size, `block ${i} ends past the arena`);
    for (let j = 0; j < i; j++) {
      if (!overlapInTime(blocks[i]!, blocks[j]!)) continue;
      const disjoint = offsets[i]! + blocks[i]!.size <= offsets[j]! || offsets[j]! + blocks[j]!.size <= offsets[i]!;
      assert.ok(disjoint, `blocks ${i} and ${j} are alive together and share bytes`);
    }
  }
  return { size, peak: peakLiveBytes(blocks) };
}

test('tensors alive at the same time never share bytes; the arena is near the peak live size', () => {
  const rng = testRng(import.meta.url, 'random plans');
  let worst = 1;
  for (let trial = 0; trial < 200; trial++) {
    const steps = rng.intRange(1, 40);
    // A chain-like plan as graphs give: each block made by one step, read by a few later ones.
    const blocks = Array.from({ length: rng.intRange(1, 60) }, (): ArenaBlock => {
      const first = rng.intRange(-1, steps);
      return { size: rng.pick([1, 4, 15, 16, 100, 4096, rng.intRange(1, 100_000)]), first, last: Math.min(steps, first + rng.intRange(0, 6)) };
    });
    const { size, peak } = checkLayout(blocks);
    assert.ok(size >= peak, 'a layout below the peak live size is impossible: the check is broken');
    worst = Math.max(worst, size / peak);
  }
  console.log(`arena size / peak live bytes, worst of 200 random plans: ${worst.toFixed(3)} (seed ${rng.seed})`);
});

test('a chain reuses two slots; a block alive throughout keeps its own', () => {
  const chain = Array.from({ length: 10 }, (_, i): ArenaBlock => ({ size: 1000, first: i, last: i + 1 }));
  const { offsets, size } = planArena(chain);
  assert.equal(size, 2 * 1008);
  assert.deepEqual(new Set(offsets).size, 2);
  const withInput = [{ size: 64, first: -1, last: 10 }, ...chain];
  const layout = planArena(withInput);
  assert.equal(layout.size, 2 * 1008 + 64);
  assert.ok(layout.offsets.slice(1).every((o) => o + 1000 <= layout.offsets[0]! || o >= layout.offsets[0]! + 64));
});

test('empty and zero-sized blocks', () => {
  assert.deepEqual(planArena([]), { offsets: [], size: 0 });
  assert.equal(planArena([{ size: 0, first: 0, last: 0 }]).size, 0);
});

test('a block that ends before it is written is refused (it would overlap nothing and share live bytes)', () => {
  // An output no step reads and nobody fetches had last = -1 (test/wasm/unfetched-outputs.test.ts).
  assert.throws(() => planArena([{ size: 64, first: 0, last: 2 }, { size: 64, first: 1, last: -1 }]), (e: unknown) => e instanceof KilnError && e.code === 'INTERNAL' && /block 1 ends \(step -1\) before it is written \(step 1\)/.test(e.message));
  assert.equal(planArena([{ size: 64, first: 0, last: 2 }, { size: 64, first: 1, last: 1 }]).offsets[1], 64, 'written at step 1 and read by none: its own bytes at that step');
});
