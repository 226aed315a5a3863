// What a session reports when its GPU device is lost (SessionOptions.onDeviceLost). Kept apart from
// the recovery code (device-recovery.ts) so the public declarations need no WebGPU types.
import type { BackendName } from '../backends/backend.ts';

export interface DeviceLostEvent {
  /** GPUDeviceLostInfo.reason: 'destroyed' or 'unknown' */
  readonly reason: string;
  readonly message: string;
  /** where the session runs now: 'webgpu' on a new device, else 'wasm' (or 'js' where WebAssembly cannot run) */
  readonly executionProvider: BackendName;
  readonly adapterInfo: string;
}

export type DeviceLostListener = (event: DeviceLostEvent) => void;
