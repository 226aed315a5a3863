// Lazy op group 'signal': DFT, STFT and window functions. Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as signal } from '../signal/op.ts';
import { webgpu as signalWebGpu } from '../signal/webgpu.ts';

export const group: LazyOpGroup = {
  definitions: [...signal],
  js: [],
  webgpu: [signalWebGpu],
};
