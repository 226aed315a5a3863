import type { GpuCaps } from '../../../kernels/webgpu/contract.ts';
import { KilnError, fail } from '../../../core/errors.ts';
import { getGpu } from './gpu-provider.ts';
import { newAllocationStats, type GpuAllocationStats } from './gpu-buffer-pool.ts';
import type { KernelTuning } from './kernel-tuning.ts';

export interface GpuDeviceContext {
  readonly device: GPUDevice;
  readonly caps: GpuCaps;
  readonly info: string;
  /** set once the device is lost; every later use fails with DEVICE_LOST */
  readonly lost: GPUDeviceLostInfo | undefined;
  /** every GPUBuffer this context's user created on the device, counted */
  readonly allocations: GpuAllocationStats;
  /**
   * Waits until no other user of the device has an error scope open, then holds the device's scopes
   * until the returned function is called. Error scopes are a stack per device: two sessions that
   * push, await, and pop on one device would catch each other's errors.
   */
  lockScopes(): Promise<() => void>;
  /** This user is done with the device: a private one is destroyed, the shared one when its last user goes. */
  release(): void;
}

/** SwiftShader, llvmpipe/lavapipe or a fallback adapter: a GPU emulated on the CPU. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  return info.architecture === 'swiftshader' || info.vendor === 'google' && info.architecture === '' || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${info.description} ${info.device}`);
}

/** Requests an adapter and a device with the limits Kiln uses, or fails with DEVICE_UNAVAILABLE. */
export async function createGpuDevice(tuning: KernelTuning = 'auto'): Promise<GpuDeviceContext> {
  const gpu = getGpu();
  if (!gpu) fail('DEVICE_UNAVAILABLE', 'WebGPU is not available here (no navigator.gpu; in Node, import kilnjs so the webgpu package is registered)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) fail('DEVICE_UNAVAILABLE', 'WebGPU found no adapter (on Linux without a GPU, point VK_ICD_FILENAMES at SwiftShader)');
  const want: GPUFeatureName[] = (['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'kiln',
    requiredFeatures: want,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info;
  const detectedSoftware = isSoftwareAdapter(adapter);
  const software = tuning === 'auto' ? detectedSoftware : tuning === 'software';
  let tail = Promise.resolve();
  const ctx = {
    device,
    info: `${info.vendor || 'unknown vendor'} ${info.architecture || ''} ${info.description || info.device || ''}`.replace(/\s+/g, ' ').trim() + (detectedSoftware ? ' (software)' : ''),
    caps: {
      maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      maxInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupStorageBytes: device.limits.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      shaderF16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      packedDot4x8: gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') === true,
      software,
    },
    lost: undefined as GPUDeviceLostInfo | undefined,
    allocations: newAllocationStats(),
    lockScopes(): Promise<() => void> {
      const before = tail;
      let unlock!: () => void;
      tail = new Promise((resolve) => (unlock = resolve));
      return before.then(() => unlock);
    },
    release: () => device.destroy(),
  };
  void device.lost.then((lostInfo) => {
    ctx.lost = lostInfo;
  });
  return ctx;
}

/**
 * The device sessions share, as onnxruntime-web's sessions share one: a gpu-buffer output of one
 * session feeds another with no copy, and the page holds one device's memory. Made on first use,
 * destroyed when its last user releases it, and made again after a loss.
 */
let shared: { readonly ready: Promise<GpuDeviceContext>; users: number } | undefined;

/** A session's view of the shared device: its own caps (kernelTuning) and allocation counts. */
export async function acquireGpuDevice(tuning: KernelTuning = 'auto'): Promise<GpuDeviceContext> {
  if (!shared?.users) {
    const slot = { ready: createGpuDevice(), users: 0 };
    const forget = (): void => {
      if (shared === slot) shared = undefined;
    };
    slot.ready.then((d) => d.device.lost.then(forget), forget);
    shared = slot;
  }
  const slot = shared;
  slot.users++;
  const base = await slot.ready.catch((e: unknown) => {
    slot.users--;
    throw e;
  });
  let released = false;
  return {
    device: base.device,
    info: base.info,
    caps: { ...base.caps, software: tuning === 'auto' ? base.caps.software : tuning === 'software' },
    get lost() {
      return base.lost;
    },
    allocations: newAllocationStats(),
    lockScopes: () => base.lockScopes(),
    release() {
      if (released) return;
      released = true;
      if (--slot.users > 0) return;
      if (shared === slot) shared = undefined;
      base.device.destroy();
    },
  };
}

export function checkNotLost(ctx: GpuDeviceContext): void {
  if (ctx.lost) throw new KilnError('DEVICE_LOST', `the GPU device was lost (${ctx.lost.reason}): ${ctx.lost.message}`);
}
