// onnxruntime-web's `env`, for a caller switching imports: `env.wasm.numThreads = 1` and
// `env.wasm.wasmPaths = '/static/'` before creating sessions keep working. They become defaults of
// the wasm (and 'cpu', 'auto') providers of sessions created afterwards; a provider's own
// numThreads / wasmPaths win. Applied where create() is called (the page, for sessions in a worker),
// so the worker needs no copy of the page's env. The other fields onnxruntime-web reads (logLevel,
// wasm.proxy, wasm.simd, webgpu.*) are accepted and not read: Kiln logs nothing, picks SIMD builds
// itself and runs in a worker by its own `worker` option (docs/decisions.md "ort-env").
import type { ExecutionProvider } from './inference-session.ts';

export interface Env {
  wasm: {
    /** threads for sessions on the wasm backend (default: the machine's cores, at most 4) */
    numThreads?: number;
    /** URL prefix of the kernel modules (default: `wasm/` beside the Kiln bundle) */
    wasmPaths?: string;
    /** accepted, not read (Kiln's `worker` session option) */
    proxy?: boolean;
    /** accepted, not read (Kiln picks its SIMD or relaxed-SIMD build) */
    simd?: boolean;
    /** accepted, not read */
    initTimeout?: number;
  };
  webgpu: Record<string, unknown>;
  /** accepted, not read */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  debug?: boolean;
}

export const env: Env = { wasm: {}, webgpu: {} };

/** WebGPU where it starts, else the wasm CPU backend, else plain TypeScript. */
export const DEFAULT_PROVIDERS: readonly ExecutionProvider[] = ['webgpu', 'wasm', 'js'];

/** The providers with env.wasm's numThreads and wasmPaths where they run wasm and say neither. */
export function providersWithEnv(providers: readonly ExecutionProvider[] | undefined): readonly ExecutionProvider[] | undefined {
  const { numThreads, wasmPaths } = env.wasm;
  if (numThreads === undefined && wasmPaths === undefined) return providers;
  return (providers ?? DEFAULT_PROVIDERS).map((p): ExecutionProvider => {
    const given = typeof p === 'string' ? { name: p } : p;
    if (given.name !== 'wasm' && given.name !== 'cpu' && given.name !== 'auto') return p;
    return {
      ...given,
      ...(given.numThreads === undefined && numThreads !== undefined ? { numThreads } : {}),
      ...(given.wasmPaths === undefined && wasmPaths !== undefined ? { wasmPaths } : {}),
    };
  });
}
