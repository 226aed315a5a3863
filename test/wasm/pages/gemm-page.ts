// Page entry for test/wasm/gemm-browser.test.ts, bundled as an ES module and as an IIFE: loads the
// wasm kernels the way a Kiln bundle does (fetching wasm/ beside the bundle file) and checks a few
// odd-sized GEMMs against a float64 loop with the same bound as test/wasm/gemm.test.ts.
import { loadKilnWasm, packedBBytes } from '../../../runtime/backends/wasm/wasm-module.ts';
import { makeRng } from '../../helpers/rng-core.ts';

async function probe(seed: number): Promise<{ build: string; problems: string[] }> {
  const w = await loadKilnWasm();
  const r = makeRng(seed);
  const problems: string[] = [];
  for (const [m, n, k] of [[5, 11, 7], [13, 17, 33], [1, 9, 65], [33, 3, 127]] as const) {
    const need = w.heapBase + (m * k + k * n + m * n) * 4 + packedBBytes(k, n);
    if (need > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536));
    const a = w.heapBase;
    const b = a + m * k * 4;
    const p = b + k * n * 4;
    const c = p + packedBBytes(k, n);
    const f = new Float32Array(w.memory.buffer);
    for (let i = 0; i < m * k + k * n; i++) f[a / 4 + i] = r.uniform() * 2 - 1;
    f.fill(Number.NaN, c / 4, c / 4 + m * n);
    w.packBF32({ b, ldb: n, k, n, out: p });
    w.gemmF32({ a, lda: k, bPacked: p, c, ldc: n, m, n, k });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let exact = 0;
        let magnitude = 0;
        for (let q = 0; q < k; q++) {
          const prod = f[a / 4 + i * k + q]! * f[b / 4 + q * n + j]!;
          exact += prod;
          magnitude += Math.abs(prod);
        }
        const got = f[c / 4 + i * n + j]!;
        if (!(Math.abs(got - exact) <= (k + 2) * 2 ** -24 * magnitude)) problems.push(`${m}x${n}x${k} C[${i}][${j}] = ${got}, want ${exact}`);
      }
    }
  }
  return { build: w.build, problems };
}

(globalThis as { kilnWasmProbe?: typeof probe }).kilnWasmProbe = probe;
