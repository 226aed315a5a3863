import { createCountedBuffer, newAllocationStats, type GpuAllocationStats } from './gpu-buffer-pool.ts';

/**
 * Assigns GPU buffers to tensors by lifetime: a buffer whose last reader has run is reused by the
 * next tensor that fits (best fit). After a plan's first run nothing new is allocated.
 */
export class BufferAssigner {
  private readonly free: GPUBuffer[] = [];
  readonly all: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly stats: GpuAllocationStats = newAllocationStats(),
  ) {}

  take(bytes: number): GPUBuffer {
    const need = Math.max(16, Math.ceil(bytes / 16) * 16);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.size;
      // Best fit, but never hand a small tensor a buffer over 4x its size: that hoards memory.
      if (size >= need && size <= need * 4 && (best < 0 || size < this.free[best]!.size)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    const buf = createCountedBuffer(this.device, this.stats, {
      label: `${this.label}#${this.all.length}`,
      size: need,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.all.push(buf);
    return buf;
  }

  give(buf: GPUBuffer): void {
    this.free.push(buf);
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.length = 0;
    this.free.length = 0;
  }
}
