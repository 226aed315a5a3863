// A session's prepared plans by the shapes and host values they were planned for (planKey), the
// most recently used kept. Why bounded: every distinct input shape (text of each length, images of
// each size) gets a plan with its own buffers (WebGPU) or memory region (wasm, plan-regions.ts);
// kept for good, a session fed many shapes grew without limit until the device or the wasm memory
// ran out (docs/decisions.md, "plan-cache"). Re-planning an evicted shape costs planning and
// buffer set-up again, not pipeline compiles (the backend keeps those).

/** Plans a session keeps; the least recently used is released past this. */
export const MAX_CACHED_PLANS = 16;

interface Releasable {
  readonly prepared: { release(): void };
}

export class PlanCache<T extends Releasable> {
  private readonly entries = new Map<string, Promise<T>>();

  /** The plan for `key`, now the most recently used; undefined when there is none. */
  get(key: string): Promise<T> | undefined {
    const e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e;
  }

  /**
   * Keeps `entry` for `key` (forgotten if it fails) and releases the least recently used plans past
   * `limit`. Only call between runs: runs are serialized per session, so no run holds an evicted plan.
   */
  set(key: string, entry: Promise<T>, limit = MAX_CACHED_PLANS): void {
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    for (const [k, old] of this.entries) {
      if (this.entries.size <= limit) break;
      this.entries.delete(k);
      old.then((p) => p.prepared.release(), () => undefined);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Releases every plan (the session's release). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) (await p.catch(() => undefined))?.prepared.release();
  }
}
