// `node --import tsx bench/node/decode-bench.ts [32,128,512]`: time per generated token against its
// position, on a GPT-2-like decoder written with plain ONNX ops (test/helpers/tiny-gpt.ts: vocab 256,
// embed 128, 4 heads, 2 layers). Kiln: generate() on wasm (1 thread) and on WebGPU (Dawn; SwiftShader
// here) with the cache resident (gpu-buffer presents), twice: with the cache written in place (the
// default on a session it can rewrite) and with the fixed window (the same session seen through
// run() only, which generate() cannot rewrite).
// onnxruntime-web wasm (1 thread): the usual loop, each present fed back as the next past (the
// cache grows by one position per token). Per length L: a prompt of 8 tokens, then L tokens;
// reported: the median ms per token over the first and over the last quarter of the positions,
// their ratio (1.0 = flat), the first decode step alone (Kiln prepares its decode plan there) and the
// total of the other L - 1 steps: the sum over positions of each position's fastest time across
// rounds (on shared cores random stalls of 10-100 ms hit about one step in ten, in every runtime;
// the fastest of the rounds removes them where a plain sum would be mostly stalls). WebGPU runs lengths up to KILN_DECODE_GPU_MAX (default 128). Three rounds with the runtimes interleaved; medians across rounds.
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate, type GenerateSession } from '../../runtime/node.ts';
import { makeRng } from '../../test/helpers/rng-core.ts';
import { kvName, tinyGpt, type TinyGptConfig } from '../../test/helpers/tiny-gpt.ts';

const lengths = (process.argv[2] ?? '32,128,512').split(',').map(Number);
const ROUNDS = Number(process.env.KILN_DECODE_ROUNDS ?? 3);
/** WebGPU on a software adapter takes ~1 s per token at 512 positions: longer runs only when asked (KILN_DECODE_GPU_MAX). */
const GPU_MAX = Number(process.env.KILN_DECODE_GPU_MAX ?? 128);
const config: TinyGptConfig = { vocab: 256, embed: 128, heads: 4, layers: 2, maxPositions: Math.max(...lengths) + 16 };
const bytes = encodeOnnxModel(tinyGpt(config, makeRng(20261203)));
const prompt = Array.from({ length: 8 }, (_, i) => (i * 37) % config.vocab);
const headDim = config.embed / config.heads;
const presentsOnGpu = Object.fromEntries(Array.from({ length: config.layers }, (_, l) => (['key', 'value'] as const).map((kv) => [kvName('present', undefined, l, kv), 'gpu-buffer' as const])).flat());

ort.env.wasm.numThreads = 1;
const kilnWasm = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const kilnGpu = await InferenceSession.create(bytes, { executionProviders: ['webgpu'], preferredOutputLocation: presentsOnGpu });
const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });

/** ms between consecutive tokens: entry i is the time to produce token i + 1 (a decode step at position 8 + i). */
async function kilnSteps(session: GenerateSession, n: number): Promise<number[]> {
  const at: number[] = [];
  await generate(session, { inputIds: prompt, maxNewTokens: n + 1, onToken: () => void at.push(performance.now()) });
  return at.slice(1).map((t, i) => t - at[i]!);
}

async function ortSteps(n: number): Promise<number[]> {
  const i64 = (v: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const sequence = [...prompt];
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < config.layers; l++) for (const kv of ['key', 'value'] as const) past[kvName('past', undefined, l, kv)] = new ort.Tensor('float32', new Float32Array(0), [1, config.heads, 0, headDim]);
  const at: number[] = [];
  for (let step = 0; step <= n; step++) {
    const ids = step === 0 ? sequence : [sequence[sequence.length - 1]!];
    const start = sequence.length - ids.length;
    const out = await theirs.run({ input_ids: i64(ids), attention_mask: i64(sequence.map(() => 1)), position_ids: i64(ids.map((_, i) => start + i)), ...past });
    const logits = out.logits!.data as Float32Array;
    let best = 0;
    for (let i = 1; i < config.vocab; i++) if (logits[logits.length - config.vocab + i]! > logits[logits.length - config.vocab + best]!) best = i;
    sequence.push(best);
    past = {};
    for (let l = 0; l < config.layers; l++) for (const kv of ['key', 'value'] as const) past[kvName('past', undefined, l, kv)] = out[kvName('present', undefined, l, kv)]!;
    at.push(performance.now());
  }
  return at.slice(1).map((t, i) => t - at[i]!);
}

/** The session through run() only: generate() keeps its window. */
const windowed = (s: InferenceSession): GenerateSession => ({ inputMetadata: s.inputMetadata, outputNames: s.outputNames, gpuDevice: s.gpuDevice, run: (feeds, fetches) => s.run(feeds, fetches) });

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const allRuntimes: [string, (n: number) => Promise<number[]>][] = [
  ['kiln wasm 1t in place', (n) => kilnSteps(kilnWasm, n)],
  ['kiln wasm 1t window', (n) => kilnSteps(windowed(kilnWasm), n)],
  ['kiln webgpu in place', (n) => kilnSteps(kilnGpu, n)],
  ['kiln webgpu window', (n) => kilnSteps(windowed(kilnGpu), n)],
  ['ort wasm 1t', ortSteps],
];
const load0 = loadavg()[0]!;
console.log(`decode: ms per token, median of the first / last quarter of positions (ratio last/first; 1.0 = flat); median of ${ROUNDS} rounds, runtimes interleaved`);
console.log(`adapter: ${kilnGpu.adapterInfo}`);
console.log('| tokens | runtime | first quarter | last quarter | last/first | 1st step ms | steps 2..L total ms |');
console.log('|---|---|---|---|---|---|---|');
for (const n of lengths) {
  const runtimes = allRuntimes.filter(([name]) => !name.startsWith('kiln webgpu') || n <= GPU_MAX);
  const results = new Map<string, { first: number[]; last: number[]; step1: number[]; rounds: number[][] }>(runtimes.map(([name]) => [name, { first: [], last: [], step1: [], rounds: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, steps] of runtimes) {
      const t = await steps(n);
      const q = Math.max(1, Math.floor(t.length / 4));
      results.get(name)!.first.push(median(t.slice(1, q + 1))); // t[0] prepares the decode plan
      results.get(name)!.last.push(median(t.slice(t.length - q)));
      results.get(name)!.step1.push(t[0]!);
      results.get(name)!.rounds.push(t);
    }
  }
  for (const [name, r] of results) {
    const first = median(r.first);
    const last = median(r.last);
    const total = r.rounds[0]!.slice(1).reduce((sum, _, i) => sum + Math.min(...r.rounds.map((t) => t[i + 1]!)), 0);
    console.log(`| ${n} | ${name} | ${first.toFixed(2)} | ${last.toFixed(2)} | ${(last / first).toFixed(2)} | ${median(r.step1).toFixed(1)} | ${total.toFixed(0)} |`);
  }
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
await kilnWasm.release();
await kilnGpu.release();
await theirs.release();
