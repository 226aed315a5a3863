import { fail } from '../../core/errors.ts';

/**
 * Places tensors in one linear arena by lifetime: two tensors share bytes only when their lifetimes
 * do not overlap. Greedy by size (largest first, lowest offset that fits among the blocks already
 * placed whose lifetimes overlap), as TensorFlow Lite's arena planner does: within a few percent of
 * the peak live size on real models, and deterministic, so a plan always gets the same layout.
 */

export interface ArenaBlock {
  /** bytes */
  readonly size: number;
  /** first step that writes it (or -1: live before the first step, e.g. a graph input) */
  readonly first: number;
  /** last step that reads it (inclusive) */
  readonly last: number;
}

export interface ArenaLayout {
  /** byte offset of each block, in the order given */
  readonly offsets: readonly number[];
  /** arena bytes needed */
  readonly size: number;
}

/** Every offset is a multiple of this (wide enough for v128 loads and 64-bit elements). */
export const ARENA_ALIGN = 16;

const align = (n: number): number => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

export function planArena(blocks: readonly ArenaBlock[]): ArenaLayout {
  // A block that ends before it starts overlaps nothing, so it would share bytes with live tensors.
  const inverted = blocks.findIndex((b) => b.last < b.first);
  if (inverted >= 0) fail('INTERNAL', `arena block ${inverted} ends (step ${blocks[inverted]!.last}) before it is written (step ${blocks[inverted]!.first})`);
  const order = blocks.map((_, i) => i).sort((a, b) => blocks[b]!.size - blocks[a]!.size || blocks[a]!.first - blocks[b]!.first || a - b);
  const offsets = new Array<number>(blocks.length).fill(0);
  const placed: number[] = [];
  let size = 0;
  for (const i of order) {
    const b = blocks[i]!;
    const need = align(b.size);
    // The ranges taken by placed blocks alive at the same time, by offset.
    const busy = placed
      .filter((j) => blocks[j]!.first <= b.last && b.first <= blocks[j]!.last)
      .map((j) => [offsets[j]!, offsets[j]! + align(blocks[j]!.size)] as const)
      .sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [start, end] of busy) {
      if (start - at >= need) break;
      at = Math.max(at, end);
    }
    offsets[i] = at;
    placed.push(i);
    size = Math.max(size, at + need);
  }
  return { offsets, size };
}

/** The most bytes alive at once: no layout can be smaller (a lower bound, for tests and reports). */
export function peakLiveBytes(blocks: readonly ArenaBlock[]): number {
  const events = new Map<number, number>();
  for (const b of blocks) {
    events.set(b.first, (events.get(b.first) ?? 0) + align(b.size));
    events.set(b.last + 1, (events.get(b.last + 1) ?? 0) - align(b.size));
  }
  let live = 0;
  let peak = 0;
  for (const t of [...events.keys()].sort((a, b) => a - b)) {
    live += events.get(t)!;
    peak = Math.max(peak, live);
  }
  return peak;
}
