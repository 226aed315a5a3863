// GPU execution time from timestamp queries, for the latency telemetry: every compute pass of a
// timed run writes a timestamp at its beginning and end; the pairs are resolved into a buffer that
// is mapped together with the run's outputs (same submission, so no extra wait) and summed.
// Created on a plan's first timed run only, so sessions without telemetry allocate nothing.

/** more passes than this in one submission (many CPU-placed steps) are not timed by queries */
const MAX_PASSES = 64;

export class PassTimestamps {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;
  private used = 0;
  private overflow = false;

  constructor(device: GPUDevice) {
    this.querySet = device.createQuerySet({ label: 'kiln-pass-timestamps', type: 'timestamp', count: 2 * MAX_PASSES });
    this.resolved = device.createBuffer({ label: 'kiln-pass-timestamps-resolved', size: 16 * MAX_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ label: 'kiln-pass-timestamps-readback', size: 16 * MAX_PASSES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** The descriptor of the next compute pass of this submission. */
  pass(label: string): GPUComputePassDescriptor {
    if (this.used === MAX_PASSES) {
      this.overflow = true;
      return { label };
    }
    const i = this.used++;
    return { label, timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  /** Before the submission's finish(): copy this submission's timestamps out. */
  resolve(encoder: GPUCommandEncoder): boolean {
    if (this.used === 0) return false;
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.used, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16 * this.used);
    return true;
  }

  /**
   * After the submission: the summed pass time in milliseconds, or undefined when the queries could
   * not time every pass (too many passes, or a timestamp that went backwards). Resets for the next one.
   */
  async read(): Promise<number | undefined> {
    const passes = this.used;
    const complete = !this.overflow;
    this.used = 0;
    this.overflow = false;
    if (passes === 0) return undefined;
    await this.readback.mapAsync(GPUMapMode.READ, 0, 16 * passes);
    try {
      const t = new BigUint64Array(this.readback.getMappedRange(0, 16 * passes));
      let ns = 0n;
      for (let i = 0; i < passes; i++) {
        const begin = t[2 * i]!;
        const end = t[2 * i + 1]!;
        if (begin === 0n || end < begin) return undefined;
        ns += end - begin;
      }
      return complete ? Number(ns) / 1e6 : undefined;
    } finally {
      this.readback.unmap();
    }
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.readback.destroy();
  }
}
