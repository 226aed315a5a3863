// Transitional shim: the family's WebGPU lowerings from legacy.ts until it is split (see kernels/legacy-adapter.ts).
import { legacyWebgpu } from '../legacy-adapter.ts';
import { kernels } from './legacy.ts';

export const webgpu = legacyWebgpu(kernels);
