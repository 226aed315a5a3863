// Whether a split-able call (a GEMM, a row-parallel kernel) runs on the whole pool or on the calling
// thread alone, decided per call shape by timing both on the session's first calls of that shape.
// Why: in a Chromium page a split call's cost depends on more than its size (the page's thread may
// not block and loses its core at the notify under load; a peer's spinning threads hold the second
// core), so no fixed threshold holds (docs/bench.md, "Threads in Chromium"; docs/decisions.md wasm-2t).
// Either way gives the same bits (thread-job.ts), so only speed depends on the choice.

/** Timed calls each way, after the first of each way (cold: first touch of the pool, tier-up). */
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

interface Trial {
  readonly oneWay: number[];
  readonly split: number[];
  /** calls so far each way, the untimed first included */
  ran: [number, number];
  choice?: boolean;
}

/** Per-shape trials of one pool; `way` says how the next call of a shape runs, `record` takes its time. */
export class SplitChooser {
  private readonly shapes = new Map<string, Trial>();

  /** true: split this call. Trials alternate, split first, until SPLIT_TRIALS + 1 calls each way. */
  way(key: string): boolean {
    let t = this.shapes.get(key);
    if (!t) {
      if (this.shapes.size >= MAX_SPLIT_SHAPES) return true;
      t = { oneWay: [], split: [], ran: [0, 0] };
      this.shapes.set(key, t);
    }
    if (t.choice !== undefined) return t.choice;
    return t.ran[1] <= t.ran[0];
  }

  /** Whether `key` is still being tried (its calls are timed). */
  trying(key: string): boolean {
    const t = this.shapes.get(key);
    return t !== undefined && t.choice === undefined;
  }

  record(key: string, split: boolean, ms: number): void {
    const t = this.shapes.get(key);
    if (!t || t.choice !== undefined) return;
    const i = split ? 1 : 0;
    if (t.ran[i]++ > 0) (split ? t.split : t.oneWay).push(ms);
    if (t.oneWay.length >= SPLIT_TRIALS && t.split.length >= SPLIT_TRIALS) t.choice = splitPays(t.oneWay, t.split);
  }

  /** The decision for `key`: true (split), false (one thread), undefined (still trying or never seen). */
  choice(key: string): boolean | undefined {
    return this.shapes.get(key)?.choice;
  }
}
