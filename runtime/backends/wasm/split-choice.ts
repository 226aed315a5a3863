// Whether a split-able call (a GEMM, a row-parallel kernel) runs on the whole pool or on the calling
// thread alone, decided per call shape by timing both: first on the session's first calls of that
// shape (the trials), then again now and then for as long as the session lives (the revisits).
// Why timing: in a Chromium page a split call's cost depends on more than its size (the page's thread
// may not block and loses its core at the notify under load; a peer's spinning threads hold the second
// core), so no fixed threshold holds (docs/bench.md, "Threads in Chromium"; docs/decisions.md wasm-2t).
// Why revisits: those conditions change while a session lives (another tab's threads, a peer's pool
// that spun through the trials and then slept), and a choice made once under them held for good
// (docs/decisions.md, "split-revisit"). Either way gives the same bits (thread-job.ts), so only speed
// depends on the choice.

/** Timed calls each way in the trials, after the first of each way (cold: first touch of the pool, tier-up); also the window each way is judged on later. */
export const SPLIT_TRIALS = 4;
/**
 * The split must be this much faster than one thread, median against median and mean against mean,
 * to be kept: one thread needs no free core. The mean catches what the median hides: a split call
 * that stalls (the page's thread losing its core at the notify) costs milliseconds, a split that
 * works saves at most half the call, so a stall in a quarter of the calls already loses on average.
 */
export const SPLIT_MARGIN = 0.95;
/** Shapes remembered per pool; past this, new shapes split without trials (the size threshold still applies). */
export const MAX_SPLIT_SHAPES = 512;
/**
 * After a choice, the other way runs once every this many calls of the shape; each revisit that
 * confirms the choice doubles the interval (up to MAX_REVISIT), so a right choice costs at most one
 * call in FIRST_REVISIT at first and about log2(calls) calls in all, and a changed machine is seen
 * within FIRST_REVISIT + 2 * (SPLIT_TRIALS - 1) calls of the first revisit after the change.
 */
export const FIRST_REVISIT = 8;
export const MAX_REVISIT = 1024;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The decision from measured times (ms) of the same call one-way and split: true = split. */
export function splitPays(oneWay: readonly number[], split: readonly number[], margin = SPLIT_MARGIN): boolean {
  if (oneWay.length === 0 || split.length === 0) return true;
  return median(split) < median(oneWay) * margin && mean(split) < mean(oneWay) * margin;
}

interface Shape {
  /** the latest timed calls each way, at most SPLIT_TRIALS, oldest first */
  readonly oneWay: number[];
  readonly split: number[];
  /** calls so far each way, the untimed first included (counted during the trials only) */
  readonly ran: [number, number];
  choice?: boolean;
  /** calls of the chosen way left before the next revisit */
  untilRevisit: number;
  /** the current interval between revisits */
  interval: number;
  /** revisits still due at once (every other call): a revisit beat the chosen way, so the other way's window is refreshed before deciding again */
  refresh: number;
}

/** Per-shape choice of one pool; `way` says how the next call of a shape runs, `record` takes its time. */
export class SplitChooser {
  private readonly shapes = new Map<string, Shape>();

  /** true: split this call. Trials alternate, split first, until SPLIT_TRIALS + 1 calls each way; then the choice, with revisits. */
  way(key: string): boolean {
    let t = this.shapes.get(key);
    if (!t) {
      if (this.shapes.size >= MAX_SPLIT_SHAPES) return true;
      t = { oneWay: [], split: [], ran: [0, 0], untilRevisit: FIRST_REVISIT, interval: FIRST_REVISIT, refresh: 0 };
      this.shapes.set(key, t);
    }
    if (t.choice === undefined) return t.ran[1] <= t.ran[0];
    if (t.untilRevisit > 0) return t.choice;
    return !t.choice;
  }

  /** Whether `key` is still in its trials (no choice yet). */
  trying(key: string): boolean {
    const t = this.shapes.get(key);
    return t !== undefined && t.choice === undefined;
  }

  /** Takes the time of a call that ran as `way(key)` said. */
  record(key: string, split: boolean, ms: number): void {
    const t = this.shapes.get(key);
    if (!t) return;
    if (t.choice === undefined) {
      const i = split ? 1 : 0;
      if (t.ran[i]++ > 0) (split ? t.split : t.oneWay).push(ms);
      if (t.oneWay.length >= SPLIT_TRIALS && t.split.length >= SPLIT_TRIALS) t.choice = splitPays(t.oneWay, t.split);
      return;
    }
    const window = split ? t.split : t.oneWay;
    window.push(ms);
    if (window.length > SPLIT_TRIALS) window.shift();
    if (split === t.choice) {
      t.untilRevisit--;
      // Leaving a chosen split takes its median, not one slow call: only the chosen way's window gets
      // fresh calls, so a pause that hits any call (GC, another tab) would otherwise land on it alone.
      const now = t.choice ? median(t.split) < median(t.oneWay) * SPLIT_MARGIN : splitPays(t.oneWay, t.split);
      if (now !== t.choice) this.changeTo(t, now); // the chosen way got slower than the other way's window
      return;
    }
    // A revisit. If it beat the chosen way, refresh the other way's window (every other call) before judging.
    const beat = split ? splitPays(t.oneWay, [ms]) : !splitPays([ms], t.split);
    t.refresh = t.refresh > 0 ? t.refresh - 1 : beat ? SPLIT_TRIALS - 1 : 0;
    if (t.refresh > 0) {
      t.untilRevisit = 1;
      return;
    }
    const now = splitPays(t.oneWay, t.split);
    if (now !== t.choice) return this.changeTo(t, now);
    t.interval = Math.min(MAX_REVISIT, t.interval * 2);
    t.untilRevisit = t.interval;
  }

  /** The decision for `key`: true (split), false (one thread), undefined (still trying or never seen). */
  choice(key: string): boolean | undefined {
    return this.shapes.get(key)?.choice;
  }

  private changeTo(t: Shape, choice: boolean): void {
    t.choice = choice;
    t.refresh = 0;
    t.interval = FIRST_REVISIT;
    t.untilRevisit = FIRST_REVISIT;
  }
}
