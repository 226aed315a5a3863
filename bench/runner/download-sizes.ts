// Bytes each runtime makes a page download (gzip, as a server would send them): its JS and wasm.
// Models are added per workload by the page.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../test/helpers/paths.ts';
import type { RuntimeName } from '../page/runtimes.ts';

const ORT = 'node_modules/onnxruntime-web/dist/';
/** The npm path for an ONNX model: the API, its worker, and the worker's ONNX reader part (loaded on demand). */
const KILN = ['dist/kiln.mjs', 'dist/kiln.worker.mjs', 'dist/kiln.worker-onnx-reader.mjs'];

/**
 * Kiln: the npm import path (kiln.mjs starts kiln.worker.mjs, which loads its ONNX reader and, for
 * 'kiln-wasm', the wasm backend as parts of their own; scripts/bundle-sizes.mjs).
 * onnxruntime-web: `onnxruntime-web/webgpu` loads the asyncify build of its wasm; `onnxruntime-web/wasm`
 * the plain SIMD-threaded one (checked: the file names in each .min.mjs). TF.js: core + WebGPU backend.
 */
export const RUNTIME_FILES: Record<RuntimeName, readonly string[]> = {
  'kiln-webgpu': KILN,
  'kiln-wasm': [...KILN, 'dist/kiln.worker-start-wasm.mjs', 'dist/wasm/kiln-relaxed.wasm'],
  'kiln-wasm-1t': [...KILN, 'dist/kiln.worker-start-wasm.mjs', 'dist/wasm/kiln-relaxed.wasm'],
  'kiln-js': KILN,
  'ort-webgpu': [`${ORT}ort.webgpu.min.mjs`, `${ORT}ort-wasm-simd-threaded.asyncify.mjs`, `${ORT}ort-wasm-simd-threaded.asyncify.wasm`],
  'ort-wasm': [`${ORT}ort.wasm.min.mjs`, `${ORT}ort-wasm-simd-threaded.mjs`, `${ORT}ort-wasm-simd-threaded.wasm`],
  'ort-wasm-1t': [`${ORT}ort.wasm.min.mjs`, `${ORT}ort-wasm-simd-threaded.mjs`, `${ORT}ort-wasm-simd-threaded.wasm`],
  'tfjs-webgpu': ['node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js', 'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js'],
  'tfjs-wasm': ['node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'],
};

const gzipCache = new Map<string, number>();
export function gzipFileSize(rel: string): number {
  let n = gzipCache.get(rel);
  if (n === undefined) gzipCache.set(rel, (n = gzipSync(readFileSync(join(repoRoot, rel))).byteLength));
  return n;
}

/** gzip bytes per runtime; a runtime whose files are missing (Kiln before `npm run build`) is left out. */
export function runtimeDownloadSizes(): Partial<Record<RuntimeName, number>> {
  const out: Partial<Record<RuntimeName, number>> = {};
  for (const [rt, files] of Object.entries(RUNTIME_FILES) as [RuntimeName, readonly string[]][]) {
    if (files.every((f) => existsSync(join(repoRoot, f)))) out[rt] = files.reduce((a, f) => a + gzipFileSize(f), 0);
  }
  return out;
}

/** Files the trainer wrote to demo/models (MNIST float/int8/int4 .kiln bundles and ONNX exports). */
export function trainedModelFiles(): string[] {
  const dir = join(repoRoot, 'demo/models');
  return existsSync(dir) ? readdirSync(dir).filter((f) => /\.(onnx|kiln)$/.test(f)) : [];
}
