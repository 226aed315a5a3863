// A run's output arrays are fresh: the engine hands out zero pages the OS maps only when they are first
// written, and that first write costs far more than the copy into them (this VM: ~12 us per 4 KB page,
// 0.8 ms for matmul-256's 256 KB output around a 0.66 ms GEMM, 2.1 ms for conv3x3's 800 KB; docs/bench.md,
// "Where the rest of a run goes"). With a pool, the calling thread writes those pages while the workers
// run a split call's parts (thread-pool.ts), so the first touch overlaps the kernels instead of
// following them; whatever is left untouched is touched by the copy out, as without a pool.

/** Bytes between two writes: the smallest page size of the platforms Kiln runs on. */
export const TOUCH_STRIDE = 4096;
/** Pages written between two looks at the pool's unclaimed parts: ~0.1 ms on this VM, ~10 us on bare metal. */
export const TOUCH_BATCH_PAGES = 8;

/** Writes a zero every 4 KB (and into the last byte) of some fresh arrays, a batch at a time, first array first. */
export class PageToucher {
  private array = 0;
  private offset = 0;
  private readonly bytes: readonly Uint8Array[];

  constructor(arrays: readonly ArrayBufferView[]) {
    this.bytes = arrays.filter((a) => a.byteLength > 0).map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  /** Whether some page is still untouched. */
  get pending(): boolean {
    return this.array < this.bytes.length;
  }

  /** Touches up to `pages` more pages (zero is what a fresh array holds: nothing changes but the mapping). */
  touch(pages: number): void {
    for (let left = pages; left > 0 && this.array < this.bytes.length; left--) {
      const b = this.bytes[this.array]!;
      b[this.offset] = 0;
      if (this.offset === b.length - 1) {
        this.array++;
        this.offset = 0;
      } else this.offset = Math.min(this.offset + TOUCH_STRIDE, b.length - 1); // the last byte too: an array need not start on a page
    }
  }
}
