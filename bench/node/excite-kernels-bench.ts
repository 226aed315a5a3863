// `node --import tsx bench/node/excite-kernels-bench.ts [reps]`: the squeeze-excite kernels of
// kernels/wasm/src/lookup-excite.c alone on PaddleOCR cls's shapes (rows x len of its 9 SE blocks),
// beside the float mean they replace (kiln_reduce_rows_f32). Bytes uniform over 0..255 (every row
// spans the whole table: the Mul's widest case) and one random excitation per row; each Mul node
// has its own row-table cache, warm after the first round. us per round of the 9 blocks, the
// minimum of `reps` rounds.
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { seededRandom } from '../page/seeded.ts';

const REPS = Math.max(5, Number(process.argv[2] ?? 200));
const SHAPES: [number, number][] = [[8, 1152], [32, 288], [88, 288], [88, 288], [40, 288], [48, 288], [104, 192], [200, 192], [200, 192]];
const rand = seededRandom(20261203);
const w = await loadKilnWasm({ source: nodeWasmSource() });
const base = (w.heapBase + 63) & ~63;
const maxElems = Math.max(...SHAPES.map(([r, l]) => r * l));
const [xAt, fAt, tAt, bAt, yAt, pAt] = [base, base + maxElems, base + 5 * maxElems, base + 9 * maxElems, base + 9 * maxElems + 4096, base + 10 * maxElems + 4096];
const cAt = pAt + maxElems;
const need = cAt + 256 * 264 * SHAPES.length;
if (need > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536));
const mem = (): ArrayBuffer => w.memory.buffer as ArrayBuffer;
new Uint8Array(mem(), xAt, maxElems).set(Array.from({ length: maxElems }, () => Math.floor(rand() * 256)));
const table = Float32Array.from({ length: 256 }, (_, i) => Math.fround((i - 128) * 0.05 * Math.max(0, Math.min(1, (i - 128) * 0.05 / 6 + 0.5))));
new Float32Array(mem(), tAt, 256).set(table);
const xs = new Uint8Array(mem(), xAt, maxElems);
new Float32Array(mem(), fAt, maxElems).set(Array.from(xs, (v) => table[v]!));
new Float32Array(mem(), bAt, 1024).set(Array.from({ length: 1024 }, () => Math.fround(rand())));

const time = (f: () => void): number => {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best * 1000;
};
const fn = (n: string): ((...a: number[]) => number) => w.fn(n) as (...a: number[]) => number;
const [reduce, mean, mul] = [fn('kiln_reduce_rows_f32'), fn('kiln_lookup_mean_q8'), fn('kiln_lookup_mul_q8')];
const all = (f: (rows: number, len: number, i: number) => void) => () => { SHAPES.forEach(([r, l], i) => f(r, l, i)); };
console.log(`float mean (kiln_reduce_rows_f32): ${time(all((r, l) => reduce(fAt, yAt, r, l, 0))).toFixed(1)} us`);
console.log(`lookup mean q8: ${time(all((r, l) => mean(xAt, 0, tAt, r, l, 0.02, 128, 0, 255, yAt))).toFixed(1)} us`);
console.log(`lookup mul q8 (per-row b): ${time(all((r, l, i) => mul(xAt, 0, tAt, bAt, r, 0, r, l, 0.02, 128, 0, 255, cAt + i * 256 * 264, 0, 0, pAt))).toFixed(1)} us`);
