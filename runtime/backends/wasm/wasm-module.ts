// The wasm backend's kernel module (kernels/wasm/src, built by scripts/build-wasm.mjs into
// dist/wasm/): picks the build the engine can run, instantiates it over one imported
// WebAssembly.Memory, and exposes its kernels with arguments checked up front. Offsets are byte
// offsets into that memory; the caller (the backend's arena, planned from tensor lifetimes) owns
// the layout above `heapBase`. Loaded only when the wasm backend starts.
import { fail, KilnError } from '../../../core/errors.ts';
import { detectWasmFeatures } from './wasm-features.ts';
import { ThreadPool, type ThreadSpawner } from './thread-pool.ts';
import type { PageToucher } from './first-touch.ts';
import type { PoolTrace } from './thread-trace.ts';
import { callGemm, CONTROL_BYTES, ROW_EXPORTS, rowsPart } from './thread-job.ts';
import { packedBBytes, type GemmF32Args, type PackBF32Args, type WasmExport, type WasmKernels } from '../../../kernels/wasm/contract.ts';

export type { GemmActivation, GemmF32Args, PackBF32Args } from '../../../kernels/wasm/contract.ts';
export { packedBBytes } from '../../../kernels/wasm/contract.ts';

const FLAG_ACCUMULATE = 1;
const FLAG_CLAMP = 2;

export type WasmBuild = 'simd' | 'relaxed';

export const WASM_BUILD_FILES: Readonly<Record<WasmBuild, string>> = { simd: 'kiln-simd.wasm', relaxed: 'kiln-relaxed.wasm' };
/** The same kernels over a shared memory (scripts/build-wasm.mjs, threads builds). */
export const WASM_THREADS_BUILD_FILES: Readonly<Record<WasmBuild, string>> = { simd: 'kiln-threads.wasm', relaxed: 'kiln-threads-relaxed.wasm' };
/** The threads builds' declared maximum (scripts/build-wasm.mjs THREADS_MAX_MEMORY, 2 GiB), in pages. */
export const THREADS_MAX_PAGES = 32768;
/** Each pool worker's stack, above the module's own (the calling thread's): the build's stack size. */
const WORKER_STACK_BYTES = 16384;
/** The most threads numThreads may ask for. */
export const MAX_WASM_THREADS = 64;

/** Reads one built module by file name (see WASM_BUILD_FILES). */
export type WasmSource = (fileName: string) => Promise<BufferSource>;

export interface LoadWasmOptions {
  /** 'auto' (default): relaxed-SIMD where the engine validates it, else SIMD128. */
  build?: WasmBuild | 'auto';
  /** Where the bytes come from. Default: fetch `wasm/<file>` beside the bundle (dist/wasm/). Node: nodeWasmSource(). */
  source?: WasmSource;
  /** The memory to import (single-threaded only); default a new one. */
  memory?: WebAssembly.Memory;
  /**
   * Threads for the GEMM, the calling one included: 1 (default) loads the single-threaded build;
   * more starts a pool of numThreads - 1 workers over a shared memory where the platform allows it
   * (SharedArrayBuffer, cross-origin isolated in browsers, a `spawner`), else runs on one thread
   * and says why in `threadsNote`.
   */
  numThreads?: number;
  /** starts one pool worker (Node: nodeThreadSpawner()); without one the module runs single-threaded */
  spawner?: ThreadSpawner;
  /** GEMMs below this many multiply-adds stay on the calling thread; default MIN_PARALLEL_MACS (benches lower it to find it) */
  minParallelMacs?: number;
  /** how long idle pool workers poll for the next job before sleeping; default WORKER_SPIN_MICROS (benches vary it) */
  spinMicros?: number;
  /**
   * 'measure' (default): each call shape above the size threshold runs split and on one thread on
   * its first calls, timed, and keeps the faster (split-choice.ts); 'always': every such call splits
   * (tests and benches that must see the pool run).
   */
  splitChoice?: 'measure' | 'always';
  /** bench-only: split calls timed into this trace (thread-trace.ts; bench/pool-probe) */
  trace?: PoolTrace;
}

/** A clear error for a numThreads that is not an integer in 1..MAX_WASM_THREADS. */
export function checkNumThreads(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    fail('INVALID_ARGUMENT', `wasm backend: numThreads must be an integer from 1 to ${MAX_WASM_THREADS} (got ${typeof n === 'number' ? n : typeof n})`);
  }
  return n;
}

/** Why a pool cannot start here, or undefined when it can. */
function threadsUnavailable(spawner: ThreadSpawner | undefined): string | undefined {
  // Browsers hide SharedArrayBuffer from pages that are not isolated: name the cause the page can fix.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return 'the page is not cross-origin isolated'; // absent in Node
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer';
  if (!spawner) return 'no worker spawner on this platform';
  return undefined;
}

export interface KilnWasm extends WasmKernels {
  readonly build: WasmBuild;
  /** threads the GEMM runs on, the calling one included (1: no pool) */
  readonly threads: number;
  /** why fewer threads run than were asked for, if so */
  readonly threadsNote?: string;
  /** GEMM calls split across the pool so far (0 without one) */
  readonly parallelGemms: number;
  /** row-parallel calls (attention) split across the pool so far (0 without one) */
  readonly parallelRowCalls: number;
  /** parts of split calls the pool's workers ran so far (the calling thread ran the rest) */
  readonly workerParts: number;
  /** a run's fresh output arrays, for split calls to touch while the workers take parts (first-touch.ts); undefined at the run's end. Nothing without a pool. */
  touchWhileSplit(t: PageToucher | undefined): void;
  /** terminates the pool's workers (nothing to do single-threaded); the module is unusable after */
  release(): Promise<void>;
  readonly memory: WebAssembly.Memory;
  /** First byte the module does not use (its stack is below): the arena starts here or above. */
  readonly heapBase: number;
  /** C = act(A B + bias) (+ C when accumulate). */
  gemmF32(args: GemmF32Args): void;
  packBF32(args: PackBF32Args): void;
}

interface KernelExports {
  kiln_gemm_f32(a: number, lda: number, bPacked: number, c: number, ldc: number, m: number, n: number, k: number, flags: number, lo: number, hi: number): void;
  kiln_pack_b_f32(b: number, ldb: number, k: number, n: number, transB: number, bias: number, out: number): void;
  __heap_base: WebAssembly.Global;
}

function kernelExports(e: WebAssembly.Exports): KernelExports {
  const fn = (name: string): boolean => typeof e[name] === 'function';
  if (!fn('kiln_gemm_f32') || !fn('kiln_pack_b_f32') || !(e['__heap_base'] instanceof WebAssembly.Global)) {
    fail('INTERNAL', 'the wasm kernel module lacks kiln_gemm_f32, kiln_pack_b_f32 or __heap_base: rebuild it (node scripts/build-wasm.mjs)');
  }
  return e as unknown as KernelExports; // the shape was checked just above; Exports is an untyped record
}

/**
 * The URL of the file this code ended up in, read once while it is first evaluated: import.meta.url
 * in ES modules; in the IIFE build (a classic script, where the bundler turns import.meta into {})
 * the running script's src, or in a classic worker its own location.
 */
const BUNDLE_URL: string | undefined = (() => {
  const meta: string | undefined = import.meta.url;
  if (meta) return meta;
  if (typeof document !== 'undefined' && document.currentScript instanceof HTMLScriptElement) return document.currentScript.src;
  if (typeof location !== 'undefined') return location.href;
  return undefined;
})();

/** Default source in browsers: dist/wasm/ beside the bundle file (scripts/build.mjs puts it there). */
function fetchBesideBundle(fileName: string): Promise<ArrayBuffer> {
  if (BUNDLE_URL === undefined) fail('DEVICE_UNAVAILABLE', `wasm backend: cannot tell where ${fileName} is; pass options.source`);
  // Not a string literal, so bundlers leave the URL alone instead of inlining the module as base64.
  const dir = 'wasm/';
  const url = new URL(dir + fileName, BUNDLE_URL);
  return fetchModule(url);
}

/** A module's bytes from a URL; a network error or an HTTP error names the URL. */
function fetchModule(url: URL): Promise<ArrayBuffer> {
  return fetch(url).then(
    (r) => (r.ok ? r.arrayBuffer() : fail('DEVICE_UNAVAILABLE', `wasm backend: fetching ${url.href} gave HTTP ${r.status}`)),
    (e: unknown) => fail('DEVICE_UNAVAILABLE', `wasm backend: fetching ${url.href} failed: ${e instanceof Error ? e.message : String(e)}`),
  );
}

/** A file beside the bundle (the pool's worker script, dist/kiln.thread-worker.mjs), or undefined where that cannot be told. */
export function besideBundle(fileName: string): URL | undefined {
  return BUNDLE_URL === undefined ? undefined : new URL(fileName, BUNDLE_URL);
}

const urlSources = new Map<string, WasmSource>();

/**
 * A source fetching the modules from a URL prefix (onnxruntime-web's `env.wasm.wasmPaths`, as a
 * string). One function per prefix, so sessions with the same prefix share compiled modules.
 */
export function urlWasmSource(prefix: string): WasmSource {
  const known = urlSources.get(prefix);
  if (known) return known;
  const source: WasmSource = (fileName) => {
    const url = new URL(fileName, new URL(prefix.endsWith('/') ? prefix : `${prefix}/`, BUNDLE_URL ?? globalThis.location?.href));
    return fetchModule(url);
  };
  urlSources.set(prefix, source);
  return source;
}

/**
 * Compiled modules per source and file, kept for the life of the page or process (docs/decisions.md
 * "module-cache"): every session used to fetch and compile its module again (1-3 ms of a 4.4 ms
 * session creation in Node), and a new module starts on V8's baseline code, not the optimized code
 * the last session's runs earned. At most one module per build file and source; a failed fetch or
 * compile is forgotten, so the next session tries again.
 */
const compiledModules = new WeakMap<WasmSource, Map<string, Promise<WebAssembly.Module>>>();

function compiledModule(source: WasmSource, fileName: string): Promise<WebAssembly.Module> {
  let files = compiledModules.get(source);
  if (!files) compiledModules.set(source, (files = new Map()));
  let module = files.get(fileName);
  if (!module) {
    // a source's own failure keeps its message (it names the file or URL); a compile error is the build's
    module = source(fileName).then(
      (bytes) => WebAssembly.compile(bytes),
      (e: unknown) => {
        if (e instanceof KilnError) throw e;
        return fail('DEVICE_UNAVAILABLE', `wasm backend: reading ${fileName} failed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    files.set(fileName, module);
    module.catch(() => files.delete(fileName));
  }
  return module;
}

export function chooseWasmBuild(requested: WasmBuild | 'auto' = 'auto'): WasmBuild {
  const f = detectWasmFeatures();
  if (!f.simd) fail('DEVICE_UNAVAILABLE', 'wasm backend: this engine has no WebAssembly SIMD128 (use the js backend)', { ...f });
  if (requested === 'relaxed' && !f.relaxedSimd) fail('DEVICE_UNAVAILABLE', 'wasm backend: relaxed-SIMD was requested but this engine does not validate it', { ...f });
  return requested === 'auto' ? (f.relaxedSimd ? 'relaxed' : 'simd') : requested;
}

export async function loadKilnWasm(options: LoadWasmOptions = {}): Promise<KilnWasm> {
  const build = chooseWasmBuild(options.build);
  const asked = checkNumThreads(options.numThreads ?? 1);
  const why = asked > 1 ? (options.memory ? 'a memory was given' : threadsUnavailable(options.spawner)) : undefined;
  if (asked > 1 && why === undefined) {
    try {
      return await instantiate(build, options, asked);
    } catch (e) {
      if (e instanceof KilnError && e.code !== 'DEVICE_UNAVAILABLE') throw e;
      return instantiate(build, options, 1, `the pool did not start: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return instantiate(build, options, 1, why);
}

async function instantiate(build: WasmBuild, options: LoadWasmOptions, threads: number, threadsNote?: string): Promise<KilnWasm> {
  const fileName = (threads > 1 ? WASM_THREADS_BUILD_FILES : WASM_BUILD_FILES)[build];
  const compiling = compiledModule(options.source ?? fetchBesideBundle, fileName);
  const memory = threads > 1 ? new WebAssembly.Memory({ initial: 1, maximum: THREADS_MAX_PAGES, shared: true }) : options.memory ?? new WebAssembly.Memory({ initial: 1 });
  let instance: WebAssembly.Instance;
  let module: WebAssembly.Module;
  try {
    module = await compiling;
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (e) {
    if (e instanceof KilnError) throw e;
    fail('DEVICE_UNAVAILABLE', `wasm backend: ${fileName} did not instantiate: ${e instanceof Error ? e.message : String(e)}`);
  }
  const x = kernelExports(instance.exports);
  let heapBase = Number(x.__heap_base.value);
  let pool: ThreadPool | undefined;
  if (threads > 1) {
    // Above the module's own stack and data: the control block, then one stack per worker. The
    // arena starts above them (heapBase), so no kernel argument can reach them.
    const control = Math.ceil(heapBase / 16) * 16;
    const stackTops = Array.from({ length: threads - 1 }, (_, i) => control + CONTROL_BYTES + (i + 1) * WORKER_STACK_BYTES);
    heapBase = control + CONTROL_BYTES + (threads - 1) * WORKER_STACK_BYTES;
    if (heapBase > memory.buffer.byteLength) memory.grow(Math.ceil((heapBase - memory.buffer.byteLength) / 65536));
    try {
      pool = await ThreadPool.start(options.spawner!, module, memory, control, stackTops, x.kiln_gemm_f32, options.minParallelMacs, options.spinMicros, options.trace, options.splitChoice !== 'always'); // threads > 1 only with a spawner (loadKilnWasm)
    } catch (e) {
      fail('DEVICE_UNAVAILABLE', `wasm backend: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const checkInt = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min || v > 0x7fffffff) fail('INVALID_ARGUMENT', `wasm gemm: ${name} must be an integer >= ${min} (got ${v})`);
  };
  /** A region of rows x cols floats with row stride ld at byte offset off must lie in memory above the module's stack. */
  const checkRegion = (name: string, off: number, rows: number, cols: number, ld: number): void => {
    checkInt(`${name} offset`, off, heapBase);
    if (off % 4 !== 0) fail('INVALID_ARGUMENT', `wasm gemm: ${name} offset ${off} is not 4-byte aligned`);
    const end = rows === 0 || cols === 0 ? off : off + ((rows - 1) * ld + cols) * 4;
    if (end > memory.buffer.byteLength) fail('INVALID_ARGUMENT', `wasm gemm: ${name} (${rows} x ${cols}, stride ${ld}) at byte ${off} ends at ${end}, past the memory's ${memory.buffer.byteLength} bytes`);
  };

  const all = instance.exports;
  return {
    build,
    memory,
    heapBase,
    threads,
    get parallelGemms() {
      return pool?.parallelCalls ?? 0;
    },
    get parallelRowCalls() {
      return pool?.parallelRowCalls ?? 0;
    },
    get workerParts() {
      return pool?.workerParts ?? 0;
    },
    ...(threadsNote !== undefined ? { threadsNote } : {}),
    release: () => pool?.release() ?? Promise.resolve(),
    touchWhileSplit(t) {
      if (pool) pool.touch = t;
    },
    fn(name) {
      const f = all[name];
      if (typeof f !== 'function') fail('INTERNAL', `the wasm kernel module has no export '${name}': rebuild it (node scripts/build-wasm.mjs)`);
      return f as WasmExport; // checked to be a function just above; wasm exports take and return numbers
    },
    gemmF32(g) {
      checkInt('m', g.m, 0);
      checkInt('n', g.n, 0);
      checkInt('k', g.k, 0);
      checkInt('lda', g.lda, Math.max(1, g.k));
      checkInt('ldc', g.ldc, Math.max(1, g.n));
      checkRegion('A', g.a, g.m, g.k, g.lda);
      checkRegion('C', g.c, g.m, g.n, g.ldc);
      checkRegion('packed B', g.bPacked, 1, packedBBytes(g.k, g.n) / 4, 0);
      const act = g.activation ?? { kind: 'none' };
      const [lo, hi] = act.kind === 'relu' ? [0, Infinity] : act.kind === 'clip' ? [act.min, act.max] : [-Infinity, Infinity];
      if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) fail('INVALID_ARGUMENT', `wasm gemm: clip bounds [${lo}, ${hi}] are not an interval`);
      const flags = (g.accumulate ? FLAG_ACCUMULATE : 0) | (act.kind === 'none' ? 0 : FLAG_CLAMP);
      if (g.m === 0 || g.n === 0) return;
      const call = { a: g.a, lda: g.lda, bPacked: g.bPacked, c: g.c, ldc: g.ldc, m: g.m, n: g.n, k: g.k, flags, lo, hi };
      if (pool) pool.gemm(call);
      else callGemm(x.kiln_gemm_f32, call);
    },
    parallelRows(name, c) {
      const fi = ROW_EXPORTS.indexOf(name);
      const f = all[name];
      if (fi < 0 || typeof f !== 'function') fail('INTERNAL', `the wasm kernel module has no row-parallel export '${name}'`);
      const direct = (args: number[]): void => {
        const rc = (f as WasmExport)(...args); // checked to be a function just above
        if (rc !== undefined && rc !== 0) fail('INTERNAL', `${name} refused its arguments (${rc})`);
      };
      const call = { fn: fi, args: c.args, floats: c.floats, rows: c.rows, scratchArg: c.scratchArg, scratchStride: c.scratchStride };
      if (pool) pool.rows(call, c.work, direct);
      else {
        const args = rowsPart(call, 1, 0);
        if (args) direct(args);
      }
    },
    packBF32(p) {
      checkInt('k', p.k, 0);
      checkInt('n', p.n, 0);
      const trans = p.transB ?? false;
      checkInt('ldb', p.ldb, Math.max(1, trans ? p.k : p.n));
      checkRegion('B', p.b, trans ? p.n : p.k, trans ? p.k : p.n, p.ldb);
      if (p.bias !== undefined) checkRegion('bias', p.bias, 1, p.n, p.n);
      checkRegion('packed B', p.out, 1, packedBBytes(p.k, p.n) / 4, 0);
      x.kiln_pack_b_f32(p.b, p.ldb, p.k, p.n, trans ? 1 : 0, p.bias ?? 0, p.out);
    },
  };
}
