#!/usr/bin/env node
// Builds the wasm backend's kernels (kernels/wasm/src/*.c) into one module, four ways:
//   dist/wasm/kiln-simd.wasm              SIMD128 (every engine with wasm SIMD)
//   dist/wasm/kiln-relaxed.wasm           SIMD128 + relaxed-SIMD (FMA through f32x4.relaxed_madd)
//   dist/wasm/kiln-threads.wasm           SIMD128 over a shared memory (atomics), for the thread pool
//   dist/wasm/kiln-threads-relaxed.wasm   the same with relaxed-SIMD
// with Debian's clang-19 + lld-19 (scripts/setup.mjs installs them; KILN_CLANG overrides the
// compiler). clang 14 is not enough: it emits the pre-standard relaxed-SIMD opcodes that V8 rejects
// (docs/decisions.md, "wasm toolchain"). `node scripts/build-wasm.mjs [--if-stale]`; setup.mjs and
// `npm run build` call buildWasm(). `--bench-peak` builds bench/wasm/simd-peak.c (both ways) into
// .cache/wasm-bench/ (ignored, outside dist/ so npm never ships it) for bench/node/wasm-gemm-bench.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WASM_SOURCE_DIR = join(root, 'kernels', 'wasm', 'src');
export const WASM_OUT_DIR = join(root, 'dist', 'wasm');
/** The download budget of the wasm backend's module (gzip), per build. */
const GZIP_BUDGET = 60 * 1024;
/**
 * The threads builds declare a shared memory with this maximum (bytes); the loader
 * (runtime/backends/wasm/wasm-module.ts, THREADS_MAX_PAGES) creates its memory with the same one.
 */
export const THREADS_MAX_MEMORY = 2 * 1024 * 1024 * 1024;

export const WASM_BUILDS = /** @type {const} */ ([
  { file: 'kiln-simd.wasm', relaxed: false, threads: false },
  { file: 'kiln-relaxed.wasm', relaxed: true, threads: false },
  { file: 'kiln-threads.wasm', relaxed: false, threads: true },
  { file: 'kiln-threads-relaxed.wasm', relaxed: true, threads: true },
]);

/**
 * Sources compiled at -O2 instead of -O3: data movement and reductions whose time is memory-bound
 * (and pooling, whose loops -O3 unrolls most), where -O3's extra unrolling bought size, not speed.
 * Together -1.9 KB gzip of the module's 60 KB budget; the GEMM, attention and elementwise kernels
 * keep -O3. conv-f32.c too (im2col packing, the depthwise kernels, col2im): its depthwise rows two
 * at a time cost +3.3 KB gzip at -O3 in every form; at -O2, in the 5x5 stride-1-column form alone,
 * the module came out 0.3 KB smaller than before, and PP-OCR's cls / rec / det ran 11% / 5% faster /
 * level in Node (decision gelu-erf).
 */
const SIZE_FIRST = new Set(['pool.c', 'reduce.c', 'transpose.c', 'argmax.c', 'resize.c', 'normalization.c', 'where.c', 'gather.c', 'cast.c', 'compare.c', 'conv-f32.c']);
/**
 * Sources compiled at -Os: attention.c, whose hot loops are always_inline helpers (dot4, axpy4,
 * exp_weight), so -Os leaves them as -O3 did (the demo GPT's attention at L = 512 within 1-2%) at
 * ~850 B gzip less, room for the additive-mask key trimming (wasm-prefill). recurrent.c likewise
 * (its loops are always_inline helpers too): -O3 made it 3.2 KB gzip, over the budget; -Os 1.8 KB.
 * conv-winograd.c: its work is kiln_gemm_f32's (gemm-f32.c, -O3); -O3 unrolled its transforms to 5.8x
 * the size. eltwise-binary.c: its loops are explicit 4-lane SIMD over memory-bound data; -Os is 1.9 KB
 * gzip smaller (room for conv-winograd.c), its steps within 3-13% of -O3's in Node (decision conv-tail).
 */
const SMALLEST = new Set(['attention.c', 'recurrent.c', 'conv-winograd.c', 'eltwise-binary.c']);
/**
 * Sources compiled without the SLP vectorizer: lookup-excite.c's pooled mean keeps the 4 lanes of
 * a float sum as 4 scalar sums over gathered table values, which SLP packs back into a vector built
 * lane by lane (replace_lane per value: 71 vs 66 us on PaddleOCR cls's 9 pooled means).
 */
const NO_SLP = new Set(['lookup-excite.c']);

export function clangCommand() {
  return process.env.KILN_CLANG ?? 'clang-19';
}

/**
 * Compiles C sources into one wasm module. Memory is imported (env.memory) so the JS side owns the
 * one arena (and can later pass a shared memory to worker threads); the module keeps only a small
 * stack at the bottom of memory and exports __heap_base, where the arena may start.
 */
/**
 * threads: the memory is shared (-matomics, --shared-memory). Every instance (one per thread) keeps
 * the module's globals to itself, so each thread's loader points its exported __stack_pointer at a
 * stack region of its own; passive data segments, if a source ever has some, are initialized once by
 * wasm-ld's __wasm_init_memory (an atomic flag in memory).
 */
export function compileWasm({ sources, out, relaxed, threads = false, importMemory = true }) {
  const compile = [
    '--target=wasm32', '-mcpu=mvp', '-msimd128', '-mbulk-memory', '-msign-ext', '-mnontrapping-fptoint',
    ...(relaxed ? ['-mrelaxed-simd', '-DKILN_RELAXED'] : []),
    '-ffreestanding', '-nostdlib', '-Wall', '-Wextra', '-Werror',
    ...(threads ? ['-matomics', '-mmutable-globals'] : []),
  ];
  const link = [
    '-Wl,--no-entry', '-Wl,--stack-first', '-Wl,-z,stack-size=16384', '-Wl,--export=__heap_base', '-Wl,--strip-all',
    ...(importMemory ? ['-Wl,--import-memory'] : []),
    ...(threads ? ['-Wl,--shared-memory', `-Wl,--max-memory=${THREADS_MAX_MEMORY}`, '-Wl,--export=__stack_pointer'] : []),
  ];
  mkdirSync(dirname(out), { recursive: true });
  // One object per source, each at its own level (the files were compiled apart before too: no
  // cross-file inlining is lost), then one link.
  const objDir = mkdtempSync(join(tmpdir(), 'kiln-wasm-'));
  try {
    const objects = sources.map((src, i) => {
      const obj = join(objDir, `${i}-${basename(src)}.o`);
      execFileSync(clangCommand(), [...compile, SMALLEST.has(basename(src)) ? '-Os' : SIZE_FIRST.has(basename(src)) ? '-O2' : '-O3', ...(NO_SLP.has(basename(src)) ? ['-fno-slp-vectorize'] : []), '-c', src, '-o', obj], { stdio: 'inherit' });
      return obj;
    });
    const tmp = `${out}.tmp`;
    execFileSync(clangCommand(), [...compile, ...link, ...objects, '-o', tmp], { stdio: 'inherit' });
    renameSync(tmp, out); // never leave a half-written module where the loader looks
  } finally {
    rmSync(objDir, { recursive: true, force: true });
  }
}

function sources() {
  return readdirSync(WASM_SOURCE_DIR).filter((f) => f.endsWith('.c') || f.endsWith('.h')).map((f) => join(WASM_SOURCE_DIR, f));
}

/** True when an output is missing or older than a source or this script. */
export function wasmBuildIsStale() {
  const inputs = [...sources(), fileURLToPath(import.meta.url)];
  const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  return WASM_BUILDS.some((b) => {
    const out = join(WASM_OUT_DIR, b.file);
    return !existsSync(out) || statSync(out).mtimeMs < newestInput;
  });
}

/** Builds every module; returns their sizes. Throws when a build fails or exceeds the gzip budget. */
export function buildWasm() {
  const cSources = sources().filter((f) => f.endsWith('.c'));
  const sizes = {};
  for (const b of WASM_BUILDS) {
    const out = join(WASM_OUT_DIR, b.file);
    compileWasm({ sources: cSources, out, relaxed: b.relaxed, threads: b.threads });
    const bytes = readFileSync(out);
    sizes[b.file] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    if (sizes[b.file].gzip > GZIP_BUDGET) throw new Error(`${b.file} is ${sizes[b.file].gzip} bytes gzip, over the ${GZIP_BUDGET} budget`);
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--bench-peak')) {
    for (const b of WASM_BUILDS) compileWasm({ sources: [join(root, 'bench', 'wasm', 'simd-peak.c')], out: join(root, '.cache', 'wasm-bench', `simd-peak-${b.relaxed ? 'relaxed' : 'simd'}.wasm`), relaxed: b.relaxed, importMemory: false });
  } else if (process.argv.includes('--if-stale') && !wasmBuildIsStale()) {
    console.log('[build-wasm] up to date');
  } else {
    for (const [file, s] of Object.entries(buildWasm())) console.log(`dist/wasm/${file.padEnd(18)} ${String(s.raw).padStart(7)} B   gzip ${String(s.gzip).padStart(6)} B`);
  }
}
