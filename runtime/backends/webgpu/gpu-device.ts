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
  lost: GPUDeviceLostInfo | undefined;
  /** every GPUBuffer Kiln created on this device, counted */
  readonly allocations: GpuAllocationStats;
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
  const ctx: GpuDeviceContext = {
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
    lost: undefined,
    allocations: newAllocationStats(),
  };
  void device.lost.then((lostInfo) => {
    ctx.lost = lostInfo;
  });
  return ctx;
}

export function checkNotLost(ctx: GpuDeviceContext): void {
  if (ctx.lost) throw new KilnError('DEVICE_LOST', `the GPU device was lost (${ctx.lost.reason}): ${ctx.lost.message}`);
}
