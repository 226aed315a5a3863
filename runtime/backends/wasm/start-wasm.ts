// The wasm backend as one lazily loaded piece: the session imports this file only when the 'wasm'
// provider starts, so pages on the WebGPU path never download the backend and its kernels
// (docs/decisions.md, "bundle"). One module, so the ESM builds emit one chunk for it.
import { WasmBackend } from './wasm-backend.ts';
import { urlWasmSource } from './wasm-module.ts';

export function startWasmBackend(options: { wasmPaths?: string | undefined; numThreads?: number | undefined }): Promise<WasmBackend> {
  return WasmBackend.create({
    ...(options.wasmPaths !== undefined ? { source: urlWasmSource(options.wasmPaths) } : {}),
    ...(options.numThreads !== undefined ? { numThreads: options.numThreads } : {}),
  });
}
