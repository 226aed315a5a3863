import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';

/**
 * Runs `body` with every WGSL module this thread's GPU devices create passed through the rewrite it sets
 * (identity until then): a test can perturb what the hardware computes (a quotient some ulps off) where
 * SwiftShader's own answer is exact. Sessions must run with `worker: false` to be on this thread.
 */
export async function withShaderRewrite<T>(body: (setRewrite: (rewrite: (code: string) => string) => void) => Promise<T>): Promise<T> {
  (await createGpuDevice()).device.destroy(); // installs Dawn's GPUDevice, whose prototype every session's device shares
  const proto = (globalThis as { GPUDevice?: { prototype: GPUDevice } }).GPUDevice!.prototype;
  const create = proto.createShaderModule;
  let rewrite = (code: string): string => code;
  proto.createShaderModule = function (this: GPUDevice, d: GPUShaderModuleDescriptor) {
    return create.call(this, { ...d, code: rewrite(d.code) });
  };
  try {
    return await body((r) => { rewrite = r; });
  } finally {
    proto.createShaderModule = create;
  }
}
