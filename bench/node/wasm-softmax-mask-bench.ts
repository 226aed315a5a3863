// `node --import tsx bench/node/wasm-softmax-mask-bench.ts [samples] [L list]`: Softmax over the last
// axis of attention scores [4, L, L] (4 heads) as an unrecognised attention leaves it: the causal
// mask already added as -1e9 (keys t > s), so half the weights are exactly 0 after the exp. Kiln's
// kiln_softmax_f32 as raw calls beside onnxruntime-web wasm (1 thread) running the same Softmax on
// the same scores, interleaved; CPU-time medians (ms per call) of ~40 ms samples, the load beside.
// KILN_WASM_BEFORE=dir also runs the modules built in dir (an earlier build), interleaved: 'before'.
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { cpuMsPerCall, cpuMsPerCallAsync } from './time-per-call.ts';

ort.env.wasm.numThreads = 1;
const SAMPLES = Math.max(3, Number(process.argv[2] ?? 5));
const LENGTHS = (process.argv[3] ?? '128,512').split(',').map(Number);
const HEADS = 4;
const SAMPLE_MS = 40;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rnd = seededRandom(20261203);
const BEFORE = process.env.KILN_WASM_BEFORE;
const modules: [string, KilnWasm][] = [['kiln', await loadKilnWasm({ source: nodeWasmSource(), numThreads: 1 })]];
if (BEFORE) modules.push(['kiln before', await loadKilnWasm({ source: nodeWasmSource(BEFORE), numThreads: 1 })]);

/** [HEADS, L, L] scores: uniform in [-4, 4) where t <= s, -1e9 where t > s */
function maskedScores(L: number): Float32Array {
  const x = uniform(rnd, HEADS * L * L, 4);
  for (let h = 0; h < HEADS; h++) for (let s = 0; s < L; s++) for (let t = s + 1; t < L; t++) x[(h * L + s) * L + t] = -1e9;
  return x;
}

function kilnCall(w: KilnWasm, x: Float32Array, L: number): () => void {
  const softmax = w.fn('kiln_softmax_f32');
  const bytes = x.length * 4;
  const at = Math.ceil(w.heapBase / 64) * 64;
  if (at + 2 * bytes > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((at + 2 * bytes - w.memory.buffer.byteLength) / 65536));
  new Float32Array(w.memory.buffer, at, x.length).set(x);
  return () => void softmax(at, at + bytes, HEADS * L, L, 0);
}



console.log(`Softmax over [${HEADS}, L, L] causal -1e9 scores; CPU ms per call, medians of ${SAMPLES} interleaved ~${SAMPLE_MS} ms samples, 1 thread, load ${loadavg()[0]!.toFixed(1)}`);
for (const L of LENGTHS) {
  const x = maskedScores(L);
  const theirs = await ort.InferenceSession.create(encodeOnnxModel({
    nodes: [{ opType: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [HEADS, L, L] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    opsets: { '': 13 },
  }), { executionProviders: ['wasm'] });
  const feed = { x: new ort.Tensor('float32', x, [HEADS, L, L]) };
  const calls = modules.map(([label, w]) => [label, kilnCall(w, x, L)] as const);
  const got = new Map<string, number[]>([...calls.map(([l]) => [l, []] as [string, number[]]), ['ort-wasm', []]]);
  for (const [, f] of calls) cpuMsPerCall(f, SAMPLE_MS); // warm-up (tier-up)
  await cpuMsPerCallAsync(() => theirs.run(feed), SAMPLE_MS);
  for (let s = 0; s < SAMPLES; s++) {
    for (const [label, f] of calls) got.get(label)!.push(cpuMsPerCall(f, SAMPLE_MS));
    got.get('ort-wasm')!.push(await cpuMsPerCallAsync(() => theirs.run(feed), SAMPLE_MS));
  }
  await theirs.release();
  console.log(`L = ${L}: ${[...got].map(([n, v]) => `${n} ${median(v).toFixed(3)}`).join(', ')}`);
}
for (const [, w] of modules) await w.release();
