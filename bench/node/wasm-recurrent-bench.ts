// `node --import tsx bench/node/wasm-recurrent-bench.ts [samples]`: the opset-27 recurrent ops on
// Kiln's wasm backend (their wasm kernels, kernels/wasm/src/recurrent.c) against their js kernels
// (the js backend: the code the wasm backend ran for them before), 1 thread, at a decode step
// (T = 1) and a prefill (T = 128): LinearAttention gated_delta, 4 heads, d_k = d_v = 64, with
// past_state; CausalConvWithState kernel 4 over 1024 channels, bias, past_state, SiLU.
// KILN_BEFORE=<checkout> also runs that checkout's wasm backend (one without these wasm kernels
// runs the js kernels inside the wasm backend, arena copies included): 'wasm before'.
// Each model is one node with every input fed at run time. CPU-time medians (us per run) of
// interleaved ~30 ms samples, then the fastest of 200 single runs (interleaved run by run); beside the wasm run, the op's step alone (the backend's step timer,
// the minimum over the samples: the run less feeding the inputs and reading the outputs).
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import * as kiln from '../../runtime/node.ts';
import { setWasmStepTimer } from '../../runtime/backends/wasm/step-timer.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { cpuMsPerCallAsync } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 9));
const SAMPLE_MS = 30;
const MIN_RUNS = 200;
const SEED = 20261204;
const rand = seededRandom(SEED);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** uniform in [lo, hi) */
const f32 = (dims: number[], lo = -1, hi = 1): Tensor<'float32'> => {
  const u = uniform(rand, dims.reduce((a, d) => a * d, 1), 1); // [-1, 1)
  return new Tensor('float32', u.map((x) => lo + ((x + 1) / 2) * (hi - lo)), dims);
};

interface Case { readonly name: string; readonly op: string; readonly attrs: Readonly<Record<string, WriterAttribute>>; readonly feeds: Record<string, Tensor<'float32'>> }

const H = 4, D = 64, C = 1024, K = 4;
const la = (T: number): Case => ({
  name: `LinearAttention gated_delta ${H} heads, d_k = d_v = ${D}, T = ${T}, past`,
  op: 'LinearAttention',
  attrs: { q_num_heads: H, kv_num_heads: H },
  feeds: { q: f32([1, T, H * D]), k: f32([1, T, H * D], -0.2, 0.2), v: f32([1, T, H * D]), past: f32([1, H, D, D], -0.5, 0.5), decay: f32([1, T, H * D], -1, 0), beta: f32([1, T, H], 0, 1) },
});
const conv = (T: number): Case => ({
  name: `CausalConvWithState k ${K}, ${C} channels, L = ${T}, bias, past, silu`,
  op: 'CausalConvWithState',
  attrs: { activation: 'silu' },
  feeds: { x: f32([1, C, T]), w: f32([C, 1, K]), bias: f32([C]), past: f32([1, C, K - 1]) },
});
const CASES = [la(1), la(128), conv(1), conv(128)];

function model(c: Case): Uint8Array {
  return encodeOnnxModel({
    nodes: [{ opType: c.op, domain: '', inputs: Object.keys(c.feeds), outputs: ['y', 'state'], attrs: c.attrs }],
    inputs: Object.entries(c.feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'state', dtype: 'float32' }],
    initializers: {},
    opsets: { '': 27 },
  });
}

const BEFORE = process.env.KILN_BEFORE;
const before: typeof kiln | undefined = BEFORE ? ((await import(join(BEFORE, 'runtime', 'node.ts'))) as typeof kiln) : undefined;

const load0 = loadavg()[0]!;
const rows: string[] = [];
let stepMin = Infinity;
setWasmStepTimer((_, ms) => {
  stepMin = Math.min(stepMin, ms * 1000);
});
for (const c of CASES) {
  const bytes = model(c);
  const sessions: [string, kiln.InferenceSession][] = [
    ['wasm', await kiln.InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] })],
    ['js', await kiln.InferenceSession.create(bytes, { executionProviders: ['js'] })],
  ];
  if (before) sessions.push(['wasm before', await before.InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] })]);
  for (const [, s] of sessions) for (let i = 0; i < 5; i++) await s.run(c.feeds);
  stepMin = Infinity; // the js backend never reports; 'wasm before' reports to its own copy of the timer
  const impl = (s: kiln.InferenceSession): string => s.lastPlacement?.steps.map((st) => st.implementation).join('+') ?? '?';
  const t = sessions.map(() => [] as number[]);
  for (let n = 0; n < SAMPLES; n++) for (const [i, [, s]] of sessions.entries()) t[i]!.push((await cpuMsPerCallAsync(() => s.run(c.feeds), SAMPLE_MS)) * 1000);
  // the fastest single run of each, interleaved run by run: what a run costs when nothing else does
  const best = sessions.map(() => Infinity);
  for (let n = 0; n < MIN_RUNS; n++) {
    for (const [i, [, s]] of sessions.entries()) {
      const t0 = performance.now();
      await s.run(c.feeds);
      best[i] = Math.min(best[i]!, (performance.now() - t0) * 1000);
    }
  }
  const med = t.map(median);
  const base = before ? 2 : 1; // the js kernel on the wasm backend when there is a before checkout, else on the js backend
  const cell = (i: number): string => (i < sessions.length ? `${med[i]!.toFixed(1)} / ${best[i]!.toFixed(1)}` : '-');
  rows.push(`| ${c.name} | ${cell(0)} (${impl(sessions[0]![1])}) | ${stepMin.toFixed(1)} | ${cell(1)} | ${cell(2)}${before ? ` (${impl(sessions[2]![1])})` : ''} | ${(med[base]! / med[0]!).toFixed(2)}x / ${(best[base]! / best[0]!).toFixed(2)}x |`);
  for (const [, s] of sessions) await s.release();
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms CPU time, interleaved; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; seed ${SEED}`);
console.log('us per run: median CPU time / fastest single run (wall)');
console.log('| case | kiln wasm (step ran in) | its step alone, min | kiln js | wasm before | js kernel / wasm kernel (wasm before if run, else js) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
