// `node --import tsx bench/node/wasm-attention-prefill-bench.ts [samples] [L list] [heads x head size]`:
// kiln_attention_f32 as raw kernel calls over one prefill (B = 1, S = T = L, no past), the forms the
// demo GPT's recognized attention takes and the ones it could take:
// - bias -1e9: ONNX Attention with the exported causal mask as an additive [1, 1, L, L] term (keys
//   in the future at -1e9, so their weights are exactly 0 after the exp);
// - causal: the same attention as a causal window (keys t > s never scored);
// - full: every key, no mask.
// CPU-time medians (ms per call) of interleaved ~40 ms samples, 1 thread, the load average beside.
// KILN_WASM_BEFORE=dir also runs the modules built in dir (an earlier build), interleaved: 'before'.
import { loadavg } from 'node:os';
import { MAX_ROW_PARTS } from '../../kernels/wasm/contract.ts';
import { attendDescriptor, bnshOut, scoresBytes, type AttendSpec } from '../../kernels/attention/wasm-attend.ts';
import { bnshLayout } from '../../kernels/attention/core.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm, type KilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { cpuMsPerCall } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 5));
const LENGTHS = (process.argv[3] ?? '128,512').split(',').map(Number);
const [N, H] = (process.argv[4] ?? '4x16').split('x').map(Number) as [number, number];
const SAMPLE_MS = 40;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rnd = seededRandom(20261203);
const BEFORE = process.env.KILN_WASM_BEFORE;
const modules: [string, KilnWasm][] = [['', await loadKilnWasm({ source: nodeWasmSource(), numThreads: 1 })]];
if (BEFORE) modules.push(['before ', await loadKilnWasm({ source: nodeWasmSource(BEFORE), numThreads: 1 })]);

function layout(w: KilnWasm, label: string, L: number): Record<string, () => void> {
  const attention = w.fn('kiln_attention_f32');
  let at = Math.ceil(w.heapBase / 64) * 64;
  const take = (bytes: number): number => {
    const r = at;
    at += Math.ceil(bytes / 64) * 64;
    return r;
  };
  const qkvBytes = N * L * H * 4;
  const [qAt, kAt, vAt, oAt, biasAt, scoresAt] = [take(qkvBytes), take(qkvBytes), take(qkvBytes), take(qkvBytes), take(L * L * 4), take(MAX_ROW_PARTS * scoresBytes(L))];
  const descs = [take(256), take(256), take(256)];
  if (at > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((at - w.memory.buffer.byteLength) / 65536));
  const mem = w.memory.buffer;
  for (const p of [qAt, kAt, vAt]) new Float32Array(mem, p, N * L * H).set(uniform(rnd, N * L * H, 1));
  const bias = new Float32Array(mem, biasAt, L * L);
  for (let s = 0; s < L; s++) for (let t = 0; t < L; t++) bias[s * L + t] = t > s ? -1e9 : 0;
  const base: AttendSpec = { B: 1, N, group: 1, S: L, T: L, H, Hv: H, causal: false, scale: 1 / Math.sqrt(H), q: bnshLayout(N, L, H), k: bnshLayout(N, L, H), v: bnshLayout(N, L, H), out: bnshOut(L, N, H) };
  const forms: [string, AttendSpec][] = [['bias -1e9', { ...base, bias: { sb: 0, sn: 0, ss: L } }], ['causal', { ...base, causal: true }], ['full', base]];
  return Object.fromEntries(forms.map(([name, spec], i) => {
    new Int32Array(mem, descs[i]!, 64).set(attendDescriptor(spec));
    return [label + name, () => void attention(qAt, kAt, vAt, oAt, scoresAt, descs[i]!, spec.scale, 0, 0, 0, 0, spec.bias ? biasAt : 0, 0, 0, N * L)];
  }));
}


console.log(`kiln_attention_f32 (${modules[0]![1].build}), ${N} heads x ${H}, B = 1, S = T = L; CPU ms per call, medians of ${SAMPLES} interleaved ~${SAMPLE_MS} ms samples, load ${loadavg()[0]!.toFixed(1)}`);
for (const L of LENGTHS) {
  const calls = Object.assign({}, ...modules.map(([label, w]) => layout(w, label, L))) as Record<string, () => void>;
  const names = Object.keys(calls);
  const got = names.map(() => [] as number[]);
  for (const f of Object.values(calls)) cpuMsPerCall(f, SAMPLE_MS); // warm-up (tier-up)
  for (let s = 0; s < SAMPLES; s++) names.forEach((n, i) => got[i]!.push(cpuMsPerCall(calls[n]!, SAMPLE_MS)));
  console.log(`L = ${L}: ${names.map((n, i) => `${n} ${median(got[i]!).toFixed(3)}`).join(', ')}`);
}
for (const [, w] of modules) await w.release();
