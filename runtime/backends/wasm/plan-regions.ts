// Which bytes of the wasm memory the prepared plans hold. Each plan takes one region (its packed
// weights, constant copies, carried values and arena); a released plan's region is reused by a later
// plan that fits in it (first fit), so a session that meets many input shapes, and keeps a bounded
// number of plans (runtime/api/plan-cache.ts), keeps its memory bounded too. WebAssembly memory
// cannot shrink: `top` only falls back when the highest region is given back.

interface Gap {
  at: number;
  end: number;
}

export class PlanRegions {
  /** released regions below `top`, sorted by address, never touching each other or `top` */
  private readonly gaps: Gap[] = [];

  private first: number;

  /** regions start at `base` (aligned: the module's heap base, rounded up) */
  constructor(private readonly base: number) {
    this.first = base;
  }

  /** the first byte above every region held: what is free to stage data in while a plan is prepared */
  get top(): number {
    return this.first;
  }

  /** A region of `bytes` (a multiple of the arena alignment): the lowest gap it fits in, else on top. */
  take(bytes: number): number {
    const i = this.gaps.findIndex((g) => g.end - g.at >= bytes);
    if (i < 0) {
      const at = this.first;
      this.first += bytes;
      return at;
    }
    const g = this.gaps[i]!;
    const at = g.at;
    g.at += bytes;
    if (g.at === g.end) this.gaps.splice(i, 1);
    return at;
  }

  /** Gives [at, end) back, merged with the gaps beside it; the top falls back over a gap that reaches it. */
  give(at: number, end: number): void {
    if (end <= at) return;
    let i = this.gaps.findIndex((g) => g.at > at);
    if (i < 0) i = this.gaps.length;
    const before = this.gaps[i - 1];
    const after = this.gaps[i];
    if (before && before.end === at) {
      before.end = end;
      if (after && after.at === end) {
        before.end = after.end;
        this.gaps.splice(i, 1);
      }
    } else if (after && after.at === end) after.at = at;
    else this.gaps.splice(i, 0, { at, end });
    const last = this.gaps[this.gaps.length - 1];
    if (last && last.end === this.first) {
      this.first = last.at;
      this.gaps.pop();
    }
  }

  /** bytes the plans hold now (for tests and diagnostics) */
  get held(): number {
    return this.first - this.base - this.gaps.reduce((s, g) => s + g.end - g.at, 0);
  }
}
