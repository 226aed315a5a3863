// Peak GPU buffer bytes per (workload, runtime), for every WebGPU runtime alike: the page wraps
// GPUDevice.createBuffer / GPUBuffer.destroy and charges each buffer to whichever runtime is working
// when it is created. Runtimes run one at a time (each call awaited), so the charge is exact for
// buffers a runtime creates for itself. Not counted: buffers a runtime pools across sessions and
// created for an earlier workload (TF.js and onnxruntime-web keep pools), and the browser's own.

interface Owner {
  live: number;
  peak: number;
}

const owners = new Map<string, Owner>();
const charged = new WeakMap<GPUBuffer, { owner: Owner; size: number }>();
let current: Owner | undefined;
let installed = false;

function install(): boolean {
  const g = globalThis as { GPUDevice?: { prototype: GPUDevice }; GPUBuffer?: { prototype: GPUBuffer } };
  if (!g.GPUDevice || !g.GPUBuffer) return false;
  const create = g.GPUDevice.prototype.createBuffer;
  g.GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor): GPUBuffer {
    const buffer = create.call(this, desc);
    if (current) {
      current.live += desc.size;
      current.peak = Math.max(current.peak, current.live);
      charged.set(buffer, { owner: current, size: desc.size });
    }
    return buffer;
  };
  const destroy = g.GPUBuffer.prototype.destroy;
  g.GPUBuffer.prototype.destroy = function (this: GPUBuffer): undefined {
    const c = charged.get(this);
    if (c) {
      c.owner.live -= c.size;
      charged.delete(this);
    }
    return destroy.call(this);
  };
  return true;
}

/** Runs fn with GPU buffers created meanwhile charged to key. */
export async function chargeGpuBuffers<T>(key: string, fn: () => Promise<T>): Promise<T> {
  installed ||= install();
  let owner = owners.get(key);
  if (!owner) owners.set(key, (owner = { live: 0, peak: 0 }));
  const before = current;
  current = owner;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/** Peak live bytes charged to key, or undefined where WebGPU is absent (Node, CPU-only pages). */
export function peakGpuBytes(key: string): number | undefined {
  return installed ? (owners.get(key)?.peak ?? 0) : undefined;
}
