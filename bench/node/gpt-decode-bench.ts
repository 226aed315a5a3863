// `node --import tsx bench/node/gpt-decode-bench.ts [model.kiln] [32,128,512]`: the trained sonnet GPT
// (`kiln train --arch gpt --bits 4 --max-positions 512`, demo/models/sonnets-gpt-int4.kiln by
// default) on Kiln wasm (1 thread), Kiln js, Kiln WebGPU (Dawn in Node: SwiftShader here, presents
// kept on the GPU) from the .kiln, and onnxruntime-web wasm (1 thread) from the QDQ .onnx the same
// run exported beside it. onnxruntime-web's WebGPU provider does not run in Node: it is not measured
// here (only a browser has it). Per sequence length L:
// - prefill: one run over an L-token prompt; tokens/s = L / that run's time (median of the rounds);
// - decode: a 4-token prompt, then tokens up to position L; tokens/s from the median ms per token, and
//   the median ms per token over the first and the last quarter of the positions (1.0 = flat).
// Kiln decodes with generate() (fixed-window cache); onnxruntime-web with the usual loop (each present
// fed back as the next past). Rounds interleave the runtimes; the numbers are medians across rounds.
// KILN_GPT_RUNTIMES (comma-separated substrings of the names below, e.g. "wasm,ort"; '=name' matches
// one name exactly) picks runtimes; KILN_GPT_ORT_THREADS=2 runs onnxruntime-web on 2 threads (its
// numThreads is process-wide: one count per process);
// 'Kiln wasm 1t, MatMulNBits per row' runs MatMulNBits' decode kernel at every M (before the prefill path);
// 'Kiln wasm 1t, no passes' is the same wasm session with graphOptimizationLevel 'disabled' (no
// attention recognition, but no other fusion either: an upper bound on the decomposed path's cost).
// WebGPU runs lengths up to KILN_GPT_GPU_MAX (default 128): SwiftShader is a software adapter (set
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json on a machine without a GPU).
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { InferenceSession, generate } from '../../runtime/node.ts';
import { ortGreedyDecode } from '../page/ort-greedy-decode.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const modelPath = process.argv[2] ?? 'demo/models/sonnets-gpt-int4.kiln';
const lengths = (process.argv[3] ?? '32,128,512').split(',').map(Number);
const ROUNDS = Number(process.env.KILN_GPT_ROUNDS ?? 3);
const GPU_MAX = Number(process.env.KILN_GPT_GPU_MAX ?? 128);
const PROMPT = 4;
/** KILN_GPT_PREFILL_ONLY=1: time prefills only (decode columns empty) */
const PREFILL_ONLY = process.env.KILN_GPT_PREFILL_ONLY === '1';
const onnxPath = modelPath.replace(/\.kiln$/i, '.onnx');
const reportPath = modelPath.replace(/\.kiln$/i, '.report.json');
const kilnBytes = readFileSync(modelPath);
const onnxBytes = readFileSync(onnxPath);

const ORT_THREADS = Number(process.env.KILN_GPT_ORT_THREADS ?? 1);
ort.env.wasm.numThreads = ORT_THREADS;
const kilnWasm = await InferenceSession.create(kilnBytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const kilnWasm2 = await InferenceSession.create(kilnBytes, { executionProviders: [{ name: 'wasm', numThreads: 2 }] });
// the same model with MatMulNBits on its per-row kernel at every M (the path before wasm-prefill)
const kilnWasmPerRow = await InferenceSession.create(kilnBytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const nbitsKnob = devKnobs;
async function perRow<T>(f: () => Promise<T>): Promise<T> {
  nbitsKnob.KILN_NBITS_PREFILL_ROWS = Infinity; // read when a prompt length's plan is built (its first run)
  try {
    return await f();
  } finally {
    delete nbitsKnob.KILN_NBITS_PREFILL_ROWS;
  }
}
const kilnWasmPlain = await InferenceSession.create(kilnBytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }], graphOptimizationLevel: 'disabled' });
const kilnJs = await InferenceSession.create(kilnBytes, { executionProviders: ['js'] });
const presents = kilnWasm.outputNames.filter((n) => n.startsWith('present'));
const kilnGpu = await InferenceSession.create(kilnBytes, { executionProviders: ['webgpu'], preferredOutputLocation: Object.fromEntries(presents.map((n) => [n, 'gpu-buffer' as const])) });
const theirs = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'] });
const vocab = (kilnWasm.bundle?.metadata?.['tokenizer'] as { vocab: string[] }).vocab.length;
const pastMeta = kilnWasm.inputMetadata.find((m) => m.name.startsWith('past_key_values'))!;
const heads = Number(pastMeta.shape[1]);
const headDim = Number(pastMeta.shape[3]);
if (!(vocab > 0 && heads > 0 && headDim > 0)) throw new Error(`unexpected model: vocab ${vocab}, past shape ${JSON.stringify(pastMeta.shape)}`);
const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);

/** ms of one prefill over n tokens (generate() stops after the first token, which the prefill picks). */
async function kilnPrefill(session: InferenceSession, n: number): Promise<number> {
  const t0 = performance.now();
  await generate(session, { inputIds: ids(n), maxNewTokens: 1, topK: 1 });
  return performance.now() - t0;
}

/** ms between consecutive tokens; entry i is the decode step at position PROMPT + i + 1. */
async function kilnDecode(session: InferenceSession, upTo: number): Promise<number[]> {
  const at: number[] = [];
  await generate(session, { inputIds: ids(PROMPT), maxNewTokens: upTo - PROMPT, topK: 1, onToken: () => void at.push(performance.now()) });
  return at.slice(1).map((t, i) => t - at[i]!);
}

const i64 = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
const emptyPasts = (): Record<string, ort.Tensor> =>
  Object.fromEntries(theirs.inputNames.filter((n) => n.startsWith('past')).map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])]));

async function ortPrefill(n: number): Promise<number> {
  const prompt = ids(n);
  const t0 = performance.now();
  await theirs.run({ input_ids: i64(prompt), attention_mask: i64(prompt.map(() => 1)), position_ids: i64(prompt.map((_, i) => i)), ...emptyPasts() });
  return performance.now() - t0;
}

const ortDecode = (upTo: number): Promise<number[]> => ortGreedyDecode(theirs, ids(PROMPT), upTo, vocab, { i64, emptyPasts, presentOf: (n) => n.replace('past_key_values', 'present') });

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Runtime { readonly name: string; prefill(n: number): Promise<number>; decode(upTo: number): Promise<number[]>; readonly gpu?: boolean }
const picked = process.env.KILN_GPT_RUNTIMES?.split(',');
const all: Runtime[] = [
  { name: 'Kiln wasm 1t', prefill: (n) => kilnPrefill(kilnWasm, n), decode: (n) => kilnDecode(kilnWasm, n) },
  { name: 'Kiln wasm 2t', prefill: (n) => kilnPrefill(kilnWasm2, n), decode: (n) => kilnDecode(kilnWasm2, n) },
  { name: 'Kiln wasm 1t, MatMulNBits per row', prefill: (n) => perRow(() => kilnPrefill(kilnWasmPerRow, n)), decode: (n) => perRow(() => kilnDecode(kilnWasmPerRow, n)) },
  { name: 'Kiln wasm 1t, no passes', prefill: (n) => kilnPrefill(kilnWasmPlain, n), decode: (n) => kilnDecode(kilnWasmPlain, n) },
  { name: 'Kiln js', prefill: (n) => kilnPrefill(kilnJs, n), decode: (n) => kilnDecode(kilnJs, n) },
  { name: 'Kiln WebGPU', prefill: (n) => kilnPrefill(kilnGpu, n), decode: (n) => kilnDecode(kilnGpu, n), gpu: true },
  { name: `ort-web wasm ${ORT_THREADS}t`, prefill: ortPrefill, decode: ortDecode },
];
const runtimes = all.filter((r) => !picked || picked.some((p) => (p.startsWith('=') ? r.name === p.slice(1) : r.name.includes(p))));

const load0 = loadavg()[0]!;
const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { bytes?: { floatOnnx?: number } };
const floatOnnx = report.bytes?.floatOnnx;
console.log(`model ${modelPath}: ${kilnBytes.length} bytes (.kiln int4) vs ${floatOnnx ?? '?'} bytes float ONNX${floatOnnx ? ` = ${(kilnBytes.length / floatOnnx).toFixed(3)}x` : ''}; QDQ ONNX ${statSync(onnxPath).size} bytes`);
console.log(`vocab ${vocab}, ${presents.length / 2} layers, ${heads} heads x ${headDim}; adapter: ${kilnGpu.adapterInfo}; ${ROUNDS} rounds, runtimes interleaved, medians`);
console.log('| L | runtime | prefill tok/s | decode tok/s | ms/token first quarter | last quarter | last/first |');
console.log('|---|---|---|---|---|---|---|');
for (const n of lengths) {
  const active = runtimes.filter((r) => !r.gpu || n <= GPU_MAX);
  const got = new Map(active.map((r) => [r.name, { prefill: [] as number[], step: [] as number[], first: [] as number[], last: [] as number[] }]));
  for (const r of active) await r.prefill(n); // untimed: builds the plan of this prompt length
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of active) {
      const g = got.get(r.name)!;
      g.prefill.push(await r.prefill(n));
      if (PREFILL_ONLY) continue;
      const t = (await r.decode(n)).slice(1); // the first step prepares the decode plan
      const q = Math.max(1, Math.floor(t.length / 4));
      g.step.push(median(t));
      g.first.push(median(t.slice(0, q)));
      g.last.push(median(t.slice(t.length - q)));
    }
  }
  for (const r of active) {
    const g = got.get(r.name)!;
    const [first, last] = [median(g.first), median(g.last)];
    console.log(`| ${n} | ${r.name} | ${((n * 1000) / median(g.prefill)).toFixed(0)} | ${(1000 / median(g.step)).toFixed(0)} | ${first.toFixed(2)} | ${last.toFixed(2)} | ${(last / first).toFixed(2)} |`);
  }
  for (const r of runtimes.filter((x) => !active.includes(x))) console.log(`| ${n} | ${r.name} | (not run: above KILN_GPT_GPU_MAX=${GPU_MAX}) | | | | |`);
  console.log(`| ${n} | ort-web WebGPU | (browser only: not in Node) | | | | |`);
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
await Promise.all([kilnWasm.release(), kilnWasm2.release(), kilnWasmPerRow.release(), kilnWasmPlain.release(), kilnJs.release(), kilnGpu.release(), theirs.release()]);
