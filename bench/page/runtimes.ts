// Each runtime behind one interface: create a session for a workload, run it on a float32 input.
import type { InferenceSession as KilnSession } from '../../runtime/api/inference-session.ts';
import { Tensor } from '../../core/tensor.ts';
import type { ModelSource, Tf, TfModel, Workload } from './workload.ts';

/**
 * kiln-wasm and ort-wasm use the threads their defaults give (browsers: as many as the machine offers
 * when cross-origin isolated; onnxruntime-web's Node build: 1); the -1t rows pin one thread, so both
 * thread counts are compared side by side in one run.
 */
export const RUNTIMES = ['kiln-webgpu', 'kiln-wasm', 'kiln-wasm-1t', 'kiln-js', 'ort-webgpu', 'ort-wasm', 'ort-wasm-1t', 'tfjs-webgpu', 'tfjs-wasm'] as const;
export type KilnRuntime = 'kiln-webgpu' | 'kiln-wasm' | 'kiln-wasm-1t' | 'kiln-js';
export type OrtRuntime = 'ort-webgpu' | 'ort-wasm' | 'ort-wasm-1t';
export type TfjsBackend = 'webgpu' | 'wasm';
export type RuntimeName = (typeof RUNTIMES)[number];

/** An input already in the runtime's layout (converted once, outside the timed runs). */
export interface Feed {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface BenchSession {
  feed(x: Float32Array, onnxDims: readonly number[]): Feed;
  /** one full run: upload, compute, read back the first output */
  run(feed: Feed): Promise<Float32Array>;
  /** the first output in the ONNX layout, for the error check */
  toOnnxLayout(y: Float32Array): Float32Array;
  release(): Promise<void>;
  readonly note: string;
}

export interface Created {
  readonly session: BenchSession;
  /** model bytes fetched from the server (0 for models built in the page) */
  readonly fetchMs: number;
  /** session creation: parse, upload, pipeline compile (where the runtime compiles up front) */
  readonly createMs: number;
}

/** What differs between the browser page and Node: where Kiln, onnxruntime-web and TF.js come from. */
export interface RuntimeHost {
  readonly kiln: typeof KilnSession;
  /** loads a URL's bytes without any cache */
  load(url: string): Promise<Uint8Array>;
  ort(runtime: OrtRuntime): Promise<OrtModule>;
  /** TF.js with the given backend active (its backends are global: one at a time) */
  tfjs(backend: TfjsBackend): Promise<Tf>;
  /** the threads TF.js's wasm backend runs XNNPACK on, once started (where the host can tell) */
  tfjsWasmThreads?(): number | undefined;
  /** where Kiln's wasm modules are served when not beside the bundle (the dev server serves sources) */
  readonly wasmPaths?: string;
  /** why a runtime cannot run here at all (e.g. no browser), or undefined */
  unavailable(runtime: RuntimeName): string | undefined;
}

interface OrtTensor { readonly data: unknown }
interface OrtSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  readonly env: { wasm: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  readonly InferenceSession: { create(bytes: Uint8Array, opts: { executionProviders: string[] }): Promise<OrtSession> };
}

const identity: Pick<BenchSession, 'feed' | 'toOnnxLayout'> = { feed: (data, dims) => ({ data, dims }), toOnnxLayout: (y) => y };

async function bytesOf(src: ModelSource, host: RuntimeHost): Promise<{ bytes: Uint8Array; fetchMs: number }> {
  if ('bytes' in src) return { bytes: src.bytes, fetchMs: 0 };
  const t0 = performance.now();
  const bytes = await host.load(src.url);
  return { bytes, fetchMs: performance.now() - t0 };
}

const KILN_PROVIDER: Record<KilnRuntime, 'webgpu' | 'wasm' | 'js'> = { 'kiln-webgpu': 'webgpu', 'kiln-wasm': 'wasm', 'kiln-wasm-1t': 'wasm', 'kiln-js': 'js' };

async function createKiln(runtime: KilnRuntime, w: Workload, host: RuntimeHost): Promise<Created> {
  const { bytes, fetchMs } = await bytesOf(w.kiln ?? w.onnx, host);
  const t0 = performance.now();
  const provider = KILN_PROVIDER[runtime];
  const wasmOptions = { ...(host.wasmPaths ? { wasmPaths: host.wasmPaths } : {}), ...(runtime === 'kiln-wasm-1t' ? { numThreads: 1 } : {}) };
  const s = await host.kiln.create(bytes, { executionProviders: [provider === 'wasm' ? { name: provider, ...wasmOptions } : provider] });
  const createMs = performance.now() - t0;
  if (s.executionProvider !== KILN_PROVIDER[runtime]) throw new Error(`Kiln started on ${s.executionProvider}, not ${KILN_PROVIDER[runtime]}`);
  const out = s.outputNames[0]!;
  const session: BenchSession = {
    ...identity,
    get note(): string {
      const p = s.lastPlacement;
      const inWasm = p?.steps.filter((x) => x.implementation === 'wasm').length ?? 0;
      const where = runtime === 'kiln-webgpu' && p && p.cpu > 0 ? `, ${p.cpu} of ${p.gpu + p.cpu} steps on the CPU` : provider === 'wasm' && p ? `, ${inWasm} of ${p.steps.length} steps in wasm kernels` : '';
      return `${s.adapterInfo}${w.kiln ? ', .kiln' : ''}${where}`;
    },
    run: async (f) => (await s.run({ [w.inputName]: new Tensor('float32', f.data, f.dims) }))[out]!.data as Float32Array,
    release: () => s.release(),
  };
  return { session, fetchMs, createMs };
}

async function createOrt(runtime: OrtRuntime, w: Workload, host: RuntimeHost): Promise<Created> {
  const ort = await host.ort(runtime);
  const { bytes, fetchMs } = await bytesOf(w.onnx, host);
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(bytes, { executionProviders: [runtime === 'ort-webgpu' ? 'webgpu' : 'wasm'] });
  const createMs = performance.now() - t0;
  const out = s.outputNames[0]!;
  const session: BenchSession = {
    ...identity,
    // Read after create: onnxruntime-web sets numThreads back to 1 where threads cannot start.
    note: runtime === 'ort-webgpu' ? 'webgpu EP' : `${ort.env.wasm.numThreads ?? 1} thread(s), proxy ${ort.env.wasm.proxy ? 'worker' : 'off'}`,
    run: async (f) => (await s.run({ [w.inputName]: new ort.Tensor('float32', f.data, f.dims) }))[out]!.data as Float32Array,
    release: () => s.release(),
  };
  return { session, fetchMs, createMs };
}

async function createTfjs(backend: TfjsBackend, w: Workload, host: RuntimeHost): Promise<Created> {
  if (typeof w.tfjs !== 'function') throw new Error(w.tfjs.unavailable);
  const tf = await host.tfjs(backend);
  const t0 = performance.now();
  const model: TfModel = w.tfjs(tf);
  const createMs = performance.now() - t0; // weights uploaded; TF.js compiles shaders at the first run
  const session: BenchSession = {
    note: `tfjs ${tf.version_core} ${tf.getBackend()}${backend === 'wasm' && host.tfjsWasmThreads?.() ? `, ${host.tfjsWasmThreads()} thread(s)` : ''}`,
    feed: (x, dims) => model.toTfInput?.(x, dims) ?? { data: x, dims },
    toOnnxLayout: (y) => model.fromTfOutput?.(y) ?? y,
    run: async (f) => {
      // Both TF.js rows may be live at once (interleaved runs): make this one's backend active.
      if (tf.getBackend() !== backend) await host.tfjs(backend);
      const x = tf.tensor(f.data, [...f.dims]);
      const y = model.run(tf, x);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        tf.dispose([x, y]);
      }
    },
    release: async () => model.dispose(),
  };
  return { session, fetchMs: 0, createMs };
}

export function createBenchSession(runtime: RuntimeName, w: Workload, host: RuntimeHost): Promise<Created> {
  const why = host.unavailable(runtime);
  if (why) return Promise.reject(new Error(why));
  switch (runtime) {
    case 'kiln-webgpu':
    case 'kiln-wasm':
    case 'kiln-wasm-1t':
    case 'kiln-js':
      return createKiln(runtime, w, host);
    case 'ort-webgpu':
    case 'ort-wasm':
    case 'ort-wasm-1t':
      return createOrt(runtime, w, host);
    case 'tfjs-webgpu':
      return createTfjs('webgpu', w, host);
    case 'tfjs-wasm':
      return createTfjs('wasm', w, host);
  }
}
