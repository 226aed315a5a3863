// The wasm f32 GEMM (kernels/wasm/src/gemm-f32.c through runtime/backends/wasm/wasm-module.ts)
// against a float64 triple loop, on both builds, with seeded random inputs (KILN_TEST_SEED replays).
// Every region is surrounded by poisoned guard words, and C's row padding is poisoned too, so a
// store outside the tile fails the test. dist/wasm/ must be built (npm test runs scripts/setup.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { KilnError } from '../../core/errors.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { detectWasmFeatures, RELAXED_SIMD_PROBE, SIMD_PROBE } from '../../runtime/backends/wasm/wasm-features.ts';
import { chooseWasmBuild, loadKilnWasm, packedBBytes, type GemmActivation, type KilnWasm, type WasmBuild } from '../../runtime/backends/wasm/wasm-module.ts';
import { makeRng, testRng, type Rng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);
const seed = `seed ${rng.seed}`;
console.log(`wasm gemm tests: KILN_TEST_SEED=${rng.seed}`);

// Node 20 (V8 11.3) has relaxed SIMD behind this flag; Node >= 22 has it on. Set at run time so the
// relaxed build is tested too; this file runs in its own process (node --test).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const POISON = 0x7fc0dead; // a NaN with a payload no float computation produces
const GUARD_WORDS = 16;
const SIZES = [1, 3, 5, 7, 13, 17, 33, 65, 127];

/** Bump allocator over the module's memory with poisoned guards between regions. */
class Arena {
  private top: number;
  readonly regions: { off: number; words: number }[] = [];
  constructor(private readonly w: KilnWasm) {
    this.top = w.heapBase + GUARD_WORDS * 4;
  }
  alloc(words: number): number {
    const off = this.top;
    const end = off + (words + GUARD_WORDS) * 4;
    if (end > this.w.memory.buffer.byteLength) this.w.memory.grow(Math.ceil((end - this.w.memory.buffer.byteLength) / 65536));
    new Uint32Array(this.w.memory.buffer, off - GUARD_WORDS * 4, words + 2 * GUARD_WORDS).fill(POISON);
    this.top = end;
    this.regions.push({ off, words });
    return off;
  }
  f32(off: number, words: number): Float32Array {
    return new Float32Array(this.w.memory.buffer, off, words);
  }
  u32(off: number, words: number): Uint32Array {
    return new Uint32Array(this.w.memory.buffer, off, words);
  }
  guardsIntact(): boolean {
    return this.regions.every(({ off, words }) => this.u32(off - GUARD_WORDS * 4, GUARD_WORDS).every((x) => x === POISON) && this.u32(off + words * 4, GUARD_WORDS).every((x) => x === POISON));
  }
}

const uniform = (r: Rng): number => r.uniform() * 2 - 1;

interface Case {
  m: number;
  n: number;
  k: number;
  lda: number;
  ldb: number;
  ldc: number;
  transB: boolean;
  bias: boolean;
  accumulate: boolean;
  activation: GemmActivation;
}

function randomCase(r: Rng, m: number, n: number, k: number): Case {
  const transB = r.uniform() < 0.5;
  const activations: GemmActivation[] = [{ kind: 'none' }, { kind: 'relu' }, { kind: 'clip', min: -0.5, max: 0.75 }];
  return {
    m, n, k, transB,
    lda: Math.max(1, k) + r.int(4),
    ldb: Math.max(1, transB ? k : n) + r.int(4),
    ldc: n + r.int(4),
    bias: r.uniform() < 0.5,
    accumulate: r.uniform() < 0.3,
    activation: activations[r.int(3)]!,
  };
}

const describeCase = (c: Case): string => `${c.m}x${c.n}x${c.k} lda ${c.lda} ldb ${c.ldb} ldc ${c.ldc}${c.transB ? ' transB' : ''}${c.bias ? ' bias' : ''}${c.accumulate ? ' +C' : ''} ${c.activation.kind}`;

/**
 * Runs one case; returns a message for the first wrong value, or undefined. The bound per output is
 * the classic one for recursive f32 summation: |error| <= (K + 2) u sum(|a_ik b_kj|) + |bias| + |c|)
 * with u = 2^-24 (K products and sums, the bias and the C addend; Higham, Accuracy and Stability of
 * Numerical Algorithms, 3.1). It holds for any summation order and with or without FMA, so it cannot
 * fail by chance, and a wrong index gives errors of the size of the values themselves (~1e-1).
 */
function runCase(w: KilnWasm, r: Rng, c: Case): string | undefined {
  const arena = new Arena(w);
  const { m, n, k, lda, ldb, ldc } = c;
  const bRows = c.transB ? n : k;
  const bCols = c.transB ? k : n;
  const aOff = arena.alloc(Math.max(0, (m - 1) * lda + k));
  const bOff = arena.alloc(Math.max(0, (bRows - 1) * ldb + bCols));
  const biasOff = c.bias ? arena.alloc(n) : undefined;
  const pOff = arena.alloc(packedBBytes(k, n) / 4);
  const cWords = (m - 1) * ldc + n;
  const cOff = arena.alloc(cWords);
  const A = arena.f32(aOff, Math.max(0, (m - 1) * lda + k));
  const B = arena.f32(bOff, Math.max(0, (bRows - 1) * ldb + bCols));
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) A[i * lda + j] = uniform(r);
  for (let i = 0; i < bRows; i++) for (let j = 0; j < bCols; j++) B[i * ldb + j] = uniform(r);
  const bias = biasOff === undefined ? undefined : arena.f32(biasOff, n).map(() => uniform(r));
  if (biasOff !== undefined) arena.f32(biasOff, n).set(bias!);
  const C = arena.f32(cOff, cWords);
  const c0 = new Float32Array(m * n);
  if (c.accumulate) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C[i * ldc + j] = c0[i * n + j] = uniform(r);

  w.packBF32({ b: bOff, ldb, k, n, transB: c.transB, ...(biasOff !== undefined ? { bias: biasOff } : {}), out: pOff });
  w.gemmF32({ a: aOff, lda, bPacked: pOff, c: cOff, ldc, m, n, k, accumulate: c.accumulate, activation: c.activation });

  const [lo, hi] = c.activation.kind === 'relu' ? [0, Infinity] : c.activation.kind === 'clip' ? [c.activation.min, c.activation.max] : [-Infinity, Infinity];
  const out = arena.f32(cOff, cWords);
  const outBits = arena.u32(cOff, cWords);
  const u = 2 ** -24;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let exact = 0;
      let magnitude = 0;
      for (let p = 0; p < k; p++) {
        const prod = A[i * lda + p]! * (c.transB ? B[j * ldb + p]! : B[p * ldb + j]!);
        exact += prod;
        magnitude += Math.abs(prod);
      }
      const addends = (bias?.[j] ?? 0) + (c.accumulate ? c0[i * n + j]! : 0);
      exact += addends;
      magnitude += Math.abs(bias?.[j] ?? 0) + Math.abs(c.accumulate ? c0[i * n + j]! : 0);
      const want = Math.min(Math.max(exact, lo), hi);
      const got = out[i * ldc + j]!;
      const bound = (k + 2) * u * magnitude + 1e-30;
      if (!(Math.abs(got - want) <= bound)) return `${describeCase(c)}: C[${i}][${j}] = ${got}, want ${want} +- ${bound.toExponential(2)}`;
    }
    for (let j = n; j < ldc && i < m - 1; j++) {
      if (outBits[i * ldc + j] !== POISON) return `${describeCase(c)}: row padding C[${i}][${j}] was written`;
    }
  }
  if (!arena.guardsIntact()) return `${describeCase(c)}: a store landed outside its region`;
  return undefined;
}

async function loadBuild(build: WasmBuild): Promise<KilnWasm> {
  return loadKilnWasm({ build, source: nodeWasmSource(), memory: new WebAssembly.Memory({ initial: 64 }) });
}

test('feature probes: SIMD128 validates in Node >= 20; relaxed SIMD is detected from the final opcode', () => {
  assert.equal(WebAssembly.validate(SIMD_PROBE), true);
  assert.equal(WebAssembly.validate(RELAXED_SIMD_PROBE), true, 'with --experimental-wasm-relaxed-simd (or Node >= 22) relaxed SIMD validates');
  // clang 14's relaxed_madd (pre-standard opcode 0xfd 0xaf 0x01) must not pass for relaxed SIMD.
  const old = RELAXED_SIMD_PROBE.slice();
  old.set([0xaf, 0x01], old.length - 3);
  assert.equal(WebAssembly.validate(old), false);
  assert.deepEqual(detectWasmFeatures(), { wasm: true, simd: true, relaxedSimd: true });
});

for (const build of ['simd', 'relaxed'] as const) {
  test(`${build}: every mix of sizes in {${SIZES.join(', ')}} for M, N, K matches a float64 reference (strides, transB, bias, +C, relu/clip; ${seed})`, async () => {
    const w = await loadBuild(build);
    assert.equal(w.build, build);
    const r = makeRng(rng.seed ^ (build === 'simd' ? 0x51d : 0x7e1a));
    let cases = 0;
    for (const m of SIZES) {
      for (const n of SIZES) {
        for (const k of SIZES) {
          const problem = runCase(w, r, randomCase(r, m, n, k));
          assert.equal(problem, undefined, problem);
          cases++;
        }
      }
    }
    assert.equal(cases, SIZES.length ** 3);
  });

  // M = 1..3 runs the matrix-vector tiles (groups of 4 panels for M = 1, 3 for M = 2, 2 for M = 3,
  // then single panels): N covers whole groups, groups plus leftover whole panels, and a partial last panel.
  test(`${build}: matrix-vector tiles, M in {1, 2, 3}, N across panel-group edges, K tails; ${seed}`, async () => {
    const w = await loadBuild(build);
    const r = makeRng(rng.seed ^ (build === 'simd' ? 0x6e7 : 0x6e8));
    let cases = 0;
    for (const m of [1, 2, 3]) {
      for (const n of [8, 16, 24, 31, 32, 40, 48, 57, 64, 72, 100, 129]) {
        for (const k of [1, 2, 3, 4, 9, 31, 64]) {
          const problem = runCase(w, r, randomCase(r, m, n, k));
          assert.equal(problem, undefined, problem);
          cases++;
        }
      }
    }
    assert.equal(cases, 3 * 12 * 7);
  });

  test(`${build}: bench shapes, shrunk (conv-like 200x64x576, skinny 1x1000x1280, square 256), K % 4 = 2 and K = 0 (C = bias); ${seed}`, async () => {
    const w = await loadBuild(build);
    const r = makeRng(rng.seed ^ 0xbe7c);
    for (const [m, n, k] of [[200, 64, 576], [1, 1000, 1280], [256, 256, 256], [1, 7, 2], [5, 9, 6], [1, 20, 10], [9, 11, 0]] as const) {
      const problem = runCase(w, r, { ...randomCase(r, m, n, k), bias: true });
      assert.equal(problem, undefined, problem);
    }
  });
}

test('auto picks the relaxed build where the engine has relaxed SIMD; an explicit build is kept', () => {
  assert.equal(chooseWasmBuild('auto'), 'relaxed');
  assert.equal(chooseWasmBuild('simd'), 'simd');
});

test('bad arguments are KilnError INVALID_ARGUMENT before any wasm runs', async () => {
  const w = await loadBuild('simd');
  const base = w.heapBase;
  const good = { a: base, lda: 4, bPacked: base + 4096, c: base + 8192, ldc: 4, m: 4, n: 4, k: 4 };
  const invalid = (f: () => void, what: string): void => {
    assert.throws(f, (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT', what);
  };
  w.gemmF32(good); // the baseline is accepted
  invalid(() => w.gemmF32({ ...good, lda: 3 }), 'lda < K');
  invalid(() => w.gemmF32({ ...good, ldc: 2 }), 'ldc < N');
  invalid(() => w.gemmF32({ ...good, m: -1 }), 'negative M');
  invalid(() => w.gemmF32({ ...good, k: 2.5 }), 'fractional K');
  invalid(() => w.gemmF32({ ...good, a: base + 2 }), 'misaligned A');
  invalid(() => w.gemmF32({ ...good, a: 8 }), 'A inside the module stack');
  invalid(() => w.gemmF32({ ...good, c: w.memory.buffer.byteLength - 16 }), 'C past the end of memory');
  invalid(() => w.gemmF32({ ...good, activation: { kind: 'clip', min: 1, max: 0 } }), 'clip min > max');
  invalid(() => w.gemmF32({ ...good, activation: { kind: 'clip', min: Number.NaN, max: 0 } }), 'clip bound NaN');
  invalid(() => w.packBF32({ b: base, ldb: 2, k: 4, n: 4, out: base + 4096 }), 'ldb < N');
  invalid(() => w.packBF32({ b: base, ldb: 4, k: 4, n: 4, out: w.memory.buffer.byteLength - 64 }), 'packed B past the end');
});

test('a missing build is a DEVICE_UNAVAILABLE error naming where it looked', async () => {
  await assert.rejects(loadKilnWasm({ build: 'simd', source: nodeWasmSource('/nonexistent-kiln-wasm') }), (e: unknown) => e instanceof KilnError && e.code === 'DEVICE_UNAVAILABLE' && /nonexistent-kiln-wasm/.test(e.message));
});
