// `npm run bench -- --node`: the same workloads and measurements in Node, with Kiln's WebGPU backend
// on the `webgpu` package (Dawn: a real GPU where the machine has one, else SwiftShader when
// VK_ICD_FILENAMES points at it) and onnxruntime-web's wasm EP. onnxruntime-web's WebGPU EP and
// TF.js's WebGPU backend need a browser's navigator.gpu, so they are n/a here.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InferenceSession } from '../../runtime/node.ts';
import type { MeasureEnv } from '../page/measure.ts';
import { measureOptions, runBench, workloadsFor } from '../page/plan.ts';
import { RUNTIMES, type OrtModule, type RuntimeName } from '../page/runtimes.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { runtimeDownloadSizes, trainedModelFiles } from './download-sizes.ts';
import type { BenchReport } from './report.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

const NOT_IN_NODE: Partial<Record<RuntimeName, string>> = {
  'ort-webgpu': "onnxruntime-web's WebGPU EP needs a browser (its Node build has the wasm EP only)",
  'tfjs-webgpu': "TF.js's WebGPU backend needs a browser's navigator.gpu",
  'ort-wasm-1t': "onnxruntime-web's Node build runs 1 thread: that is the ort-wasm row here",
};

async function adapterDescription(): Promise<string> {
  try {
    const dawn = createRequire(import.meta.url)('webgpu') as { create(flags: string[]): GPU };
    const a = await dawn.create([]).requestAdapter();
    return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description} (Dawn, npm webgpu)`.trim() : 'no WebGPU adapter';
  } catch (e) {
    return `no WebGPU adapter (${(e as Error).message})`;
  }
}

export async function runNodeBench(o: { quick: boolean; workloads?: string[] | undefined; runtimes?: string[] | undefined }): Promise<Omit<BenchReport, 'machine' | 'date' | 'loadAverage' | 'notes'>> {
  // Without a GPU, Dawn needs SwiftShader's Vulkan driver (shipped with Debian's chromium).
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER) && !existsSync('/dev/dri')) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  const sizes = runtimeDownloadSizes();
  let ort: Promise<OrtModule> | undefined;
  const env: MeasureEnv = {
    kiln: InferenceSession,
    load: async (url) => new Uint8Array(readFileSync(join(repoRoot, url))),
    ort: (rt) => {
      if (rt !== 'ort-wasm') return Promise.reject(new Error(NOT_IN_NODE[rt]));
      ort ??= import('onnxruntime-web').then((m) => {
        const mod: OrtModule = m;
        mod.env.wasm.numThreads = 1; // its Node build runs wasm on the calling thread
        return mod;
      });
      return ort;
    },
    tfjs: async (backend) => {
      if (backend === 'webgpu') throw new Error(NOT_IN_NODE['tfjs-webgpu']);
      // The package's Node entry finds its .wasm files itself; XNNPACK runs on the calling thread.
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not start its wasm backend');
      await tf.ready();
      return tf;
    },
    unavailable: (rt) => NOT_IN_NODE[rt],
    gzipSize: async (bytes) => gzipSync(bytes).byteLength,
    runtimeBytes: (rt) => sizes[rt],
  };
  const describe = async (bytes: Uint8Array): Promise<{ name: string; shape: number[]; inputCount: number }> => {
    const s = await InferenceSession.create(bytes, { executionProviders: ['js'] });
    const m = s.inputMetadata[0]!;
    const inputCount = s.inputMetadata.length;
    await s.release();
    return { name: m.name, shape: m.shape.map((d) => (typeof d === 'number' ? d : -1)), inputCount };
  };
  const log = (s: string): void => console.log(s);
  let workloads = await workloadsFor(o.quick, trainedModelFiles(), env, describe, log);
  if (o.workloads) workloads = workloads.filter((w) => o.workloads!.includes(w.name));
  const runtimes = RUNTIMES.filter((r) => !o.runtimes || o.runtimes.includes(r));
  const { results, telemetryOverhead, autoChoices } = await runBench(workloads, runtimes, env, measureOptions(o.quick, log));
  return { browser: `Node ${process.version} (no browser), ${cpus().length} cores`, adapter: await adapterDescription(), crossOriginIsolated: false, quick: o.quick, runtimeSizes: sizes, results, telemetryOverhead, autoChoices };
}
