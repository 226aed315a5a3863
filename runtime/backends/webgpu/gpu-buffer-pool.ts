/** What a device has allocated so far: the statistic that shows a decode loop allocates nothing per token. */
export interface GpuAllocationStats {
  /** GPUBuffers created (every kind: tensors, constants, uniforms, staging, output buffers) */
  buffers: number;
  bytes: number;
}

export const newAllocationStats = (): GpuAllocationStats => ({ buffers: 0, bytes: 0 });

/** The device each buffer Kiln made belongs to, so a buffer fed to another device's session is named as such. */
export const bufferDevices = new WeakMap<GPUBuffer, GPUDevice>();

/** Creates a buffer and counts it. */
export function createCountedBuffer(device: GPUDevice, stats: GpuAllocationStats, descriptor: GPUBufferDescriptor): GPUBuffer {
  const buf = device.createBuffer(descriptor);
  stats.buffers++;
  stats.bytes += descriptor.size;
  bufferDevices.set(buf, device);
  return buf;
}

/** Most free buffers a pool keeps; more are destroyed (sizes that stopped recurring). */
const MAX_FREE = 64;

/**
 * Buffers of exact sizes handed out and given back: gpu-buffer outputs (given back when the caller
 * disposes the tensor) and download staging. A loop whose sizes repeat allocates only in its first turns.
 */
export class GpuBufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private freeCount = 0;
  private destroyed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly stats: GpuAllocationStats,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
  ) {}

  take(bytes: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.freeCount--;
      return reused;
    }
    return createCountedBuffer(this.device, this.stats, { label: this.label, size, usage: this.usage });
  }

  give(buf: GPUBuffer): void {
    // After destroy(): the device may live on for other sessions, so a buffer back late is freed now.
    if (this.destroyed || this.freeCount >= MAX_FREE) {
      buf.destroy();
      return;
    }
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
    this.freeCount++;
  }

  destroy(): void {
    this.destroyed = true;
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeCount = 0;
  }
}
