/**
 * Where the WebGPU entry point comes from: `navigator.gpu` in browsers and workers, or a provider
 * registered by the Node entry (the `webgpu` npm package). The core never imports Node modules.
 */
let provider: (() => GPU | undefined) | undefined;

export function setGpuProvider(p: () => GPU | undefined): void {
  provider = p;
}

export function getGpu(): GPU | undefined {
  if (provider) return provider();
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}
