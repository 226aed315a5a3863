// Each runtime behind one interface: create a session from bytes, run it on a float32 input.
import { InferenceSession, Tensor } from '../../runtime/index.ts';

export type RuntimeName = 'kiln-webgpu' | 'kiln-cpu' | 'ort-webgpu' | 'ort-wasm';

export interface BenchSession {
  run(input: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
  readonly note: string;
}

interface OrtTensor { data: unknown }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtGlobal {
  env: { wasm: { wasmPaths: string; numThreads: number } };
  Tensor: new (type: string, data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array, opts: object): Promise<OrtSession> };
}

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';
let ortModule: Promise<OrtGlobal> | undefined;

/** onnxruntime-web's own ESM build, loaded as published (not re-bundled by Vite). */
function loadOrt(): Promise<OrtGlobal> {
  ortModule ??= import(/* @vite-ignore */ `${ORT_DIST}ort.all.min.mjs`) as Promise<OrtGlobal>;
  return ortModule;
}

export async function createBenchSession(runtime: RuntimeName, model: Uint8Array, inputName: string, dims: readonly number[]): Promise<BenchSession> {
  if (runtime === 'kiln-webgpu' || runtime === 'kiln-cpu') {
    const s = await InferenceSession.create(model, { executionProviders: [runtime === 'kiln-webgpu' ? 'webgpu' : 'cpu'] });
    const out = s.outputNames[0]!;
    return {
      note: s.adapterInfo,
      run: async (input) => (await s.run({ [inputName]: new Tensor('float32', input, dims) }))[out]!.data as Float32Array,
      release: () => s.release(),
    };
  }
  const ort = await loadOrt();
  ort.env.wasm.wasmPaths = ORT_DIST;
  ort.env.wasm.numThreads = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;
  const s = await ort.InferenceSession.create(model, { executionProviders: [runtime === 'ort-webgpu' ? 'webgpu' : 'wasm'] });
  const out = s.outputNames[0]!;
  return {
    note: runtime === 'ort-wasm' ? `${ort.env.wasm.numThreads} thread(s)` : 'webgpu EP',
    run: async (input) => (await s.run({ [inputName]: new ort.Tensor('float32', input, dims) }))[out]!.data as Float32Array,
    release: () => s.release(),
  };
}
