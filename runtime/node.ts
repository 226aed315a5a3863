// Node entry: the browser API plus WebGPU from the `webgpu` npm package (Dawn) and file paths.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFileReader, setSiblingReader } from './api/model-source.ts';
import { readSiblingFile } from './loading/sibling-file.ts';
import { setGpuProvider } from './backends/webgpu/gpu-provider.ts';
import { availableParallelism } from 'node:os';
import { setDefaultThreading, setDefaultWasmSource } from './backends/wasm/wasm-backend.ts';
import { nodeWasmSource } from './backends/wasm/node-wasm-source.ts';
import { nodeThreadSpawner } from './backends/wasm/thread-spawner-node.ts';

export * from './index.ts';
// Drift references are built offline (trainer, `kiln compress`, or an app's own calibration script).
export { buildDriftReference } from './telemetry/drift/build-reference.ts';
export type { DriftSamples, DriftReferenceOptions } from './telemetry/drift/build-reference.ts';

let gpu: GPU | undefined;
let tried = false;
setDefaultWasmSource(nodeWasmSource());
setDefaultThreading(nodeThreadSpawner(), availableParallelism);

setGpuProvider(() => {
  if (!tried) {
    tried = true;
    try {
      const require = createRequire(import.meta.url);
      const dawn = require('webgpu') as { create(flags: string[]): GPU; globals: Record<string, unknown> };
      // Dawn's constants (GPUBufferUsage...) are globals in browsers; Node needs them installed.
      for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
      gpu = dawn.create([]);
    } catch {
      gpu = undefined;
    }
  }
  return gpu;
});
setFileReader(async (path) => new Uint8Array(await readFile(path)));
setSiblingReader(readSiblingFile);
