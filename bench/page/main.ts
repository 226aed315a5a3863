// The benchmark page: runs every runtime side by side and exposes the results to the runner.
import * as kiln from '../../runtime/index.ts';
import { latencyChart, sizeAccuracyChart } from './charts.ts';
import type { BenchResult, MeasureEnv } from './measure.ts';
import { measureOptions, runBench, workloadsFor } from './plan.ts';
import { profileWorkloads, type ProfileResult } from './profile-run.ts';
import { RUNTIMES, type OrtModule, type OrtRuntime, type RuntimeName, type TfjsBackend } from './runtimes.ts';
import type { AutoChoice } from './auto-choice.ts';
import type { TelemetryOverhead } from './telemetry-overhead.ts';
import { workerCensus, type WorkerCensus } from './worker-census.ts';
import type { Tf } from './workload.ts';

const params = new URLSearchParams(location.search);
const quick = params.has('quick');
const runtimes = (params.get('runtimes')?.split(',') ?? [...RUNTIMES]).filter((r): r is RuntimeName => (RUNTIMES as readonly string[]).includes(r));
const only = params.get('workloads')?.split(',');
const profile = params.has('profile');
const logEl = document.getElementById('log')!;
const chartsEl = document.getElementById('charts')!;
const log = (s: string): void => {
  logEl.textContent += `${s}\n`;
};

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';
const ortModules = new Map<string, Promise<OrtModule>>();
/** onnxruntime-web's own ESM builds, loaded as published (not re-bundled by Vite): the WebGPU build
 *  (`onnxruntime-web/webgpu`) and the wasm-only build (`onnxruntime-web/wasm`), as an app imports them. */
function loadOrt(runtime: OrtRuntime): Promise<OrtModule> {
  // ort-wasm-1t: a second instance of the module (another URL), since numThreads is global to one.
  const file = runtime === 'ort-webgpu' ? 'ort.webgpu.min.mjs' : runtime === 'ort-wasm' ? 'ort.wasm.min.mjs' : 'ort.wasm.min.mjs?one-thread';
  let m = ortModules.get(file);
  if (!m) {
    m = (import(/* @vite-ignore */ `${ORT_DIST}${file}`) as Promise<OrtModule>).then((ort) => {
      ort.env.wasm.wasmPaths = ORT_DIST;
      // As many threads as Kiln's default (its own default is half the cores: 1 on 2 cores). Threads
      // need SharedArrayBuffer, i.e. cross-origin isolation (the bench server sends COOP/COEP);
      // without it onnxruntime-web sets numThreads back to 1 at init, which the row's note shows.
      ort.env.wasm.numThreads = runtime === 'ort-wasm' ? Math.min(4, navigator.hardwareConcurrency) : 1;
      return ort;
    });
    ortModules.set(file, m);
  }
  return m;
}

const TFJS_WASM_DIST = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
let tfjsCore: Promise<Tf> | undefined;
/** TF.js wasm's thread count, readable once its backend started */
let tfjsWasmThreads: (() => number) | undefined;
const tfjsBackends = new Map<TfjsBackend, Promise<unknown>>();
/** TF.js core with `backend` registered (once) and made the active one. */
async function loadTfjs(backend: TfjsBackend): Promise<Tf> {
  tfjsCore ??= import('@tensorflow/tfjs-core');
  const tf = await tfjsCore;
  let registered = tfjsBackends.get(backend);
  if (!registered) {
    // TF.js's wasm backend fetches its SIMD (and, when cross-origin isolated, threaded) binary from here.
    registered = backend === 'webgpu' ? import('@tensorflow/tfjs-backend-webgpu') : import('@tensorflow/tfjs-backend-wasm').then((w) => {
      w.setWasmPaths(TFJS_WASM_DIST);
      tfjsWasmThreads = w.getThreadsCount;
    });
    tfjsBackends.set(backend, registered);
  }
  await registered;
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  return tf;
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function json<T>(url: string, fallback: T): Promise<T> {
  const r = await fetch(url).catch(() => undefined);
  return r?.ok ? ((await r.json()) as T) : fallback;
}

async function adapterDescription(): Promise<string> {
  const a = await navigator.gpu?.requestAdapter();
  return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'no WebGPU adapter';
}

interface PageResult {
  browser: string;
  adapter: string;
  crossOriginIsolated: boolean;
  quick: boolean;
  runtimeSizes: Record<string, number>;
  results: BenchResult[];
  telemetryOverhead?: TelemetryOverhead[];
  autoChoices?: AutoChoice[];
  profiles?: ProfileResult[];
  workers?: WorkerCensus;
}

const withWorkers = (): { workers?: WorkerCensus } => {
  const w = workerCensus();
  return w ? { workers: w } : {};
};

async function main(): Promise<PageResult> {
  // Served by the bench server (bench/runner/dev-server.ts): gzip sizes of each runtime's code, and
  // the trained models present in demo/models.
  const sizes = await json<Record<string, number>>('/__bench/sizes.json', {});
  const trainedFiles = await json<string[]>('/__bench/trained-models.json', []);
  const env: MeasureEnv = {
    kiln: kiln.InferenceSession,
    load: async (url) => {
      const r = await fetch(url, { cache: 'no-store' });
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
    ort: loadOrt,
    tfjs: loadTfjs,
    tfjsWasmThreads: () => tfjsWasmThreads?.(),
    // The dev server serves Kiln's sources; its wasm modules are built into dist/wasm/ (setup).
    wasmPaths: '/dist/wasm/',
    unavailable: (rt) => (rt.endsWith('webgpu') && !navigator.gpu ? 'no WebGPU in this browser' : undefined),
    gzipSize,
    runtimeBytes: (rt) => sizes[rt],
  };
  const describe = async (bytes: Uint8Array): Promise<{ name: string; shape: number[]; inputCount: number }> => {
    const s = await kiln.InferenceSession.create(bytes, { executionProviders: ['js'] });
    const m = s.inputMetadata[0]!;
    const inputCount = s.inputMetadata.length;
    await s.release();
    return { name: m.name, shape: m.shape.map((d) => (typeof d === 'number' ? d : -1)), inputCount };
  };
  let workloads = await workloadsFor(quick, trainedFiles, env, describe, log);
  if (only) workloads = workloads.filter((w) => only.includes(w.name));
  if (profile) {
    const profiles = await profileWorkloads(workloads, runtimes, env, log);
    return { browser: navigator.userAgent, adapter: await adapterDescription(), crossOriginIsolated, quick, runtimeSizes: sizes, results: [], profiles };
  }
  log(`runtimes: ${runtimes.join(', ')}; workloads: ${workloads.map((w) => w.name).join(', ')}; cross-origin isolated: ${crossOriginIsolated}`);
  const { results, telemetryOverhead, autoChoices } = await runBench(workloads, runtimes, env, measureOptions(quick, log), (w, r) => chartsEl.insertAdjacentHTML('beforeend', latencyChart(w.name, r)));
  chartsEl.insertAdjacentHTML('beforeend', sizeAccuracyChart(results));
  return { browser: navigator.userAgent, adapter: await adapterDescription(), crossOriginIsolated, quick, runtimeSizes: sizes, results, telemetryOverhead, autoChoices, ...withWorkers() };
}

const done = main().catch((e: unknown) => ({ error: String((e as Error).stack ?? e) }));
(globalThis as { kilnBench?: Promise<unknown> }).kilnBench = done;
void done.then(() => log('done'));
