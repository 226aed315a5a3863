// `node --import tsx bench/node/stacked-decode-bench.ts [32,128,512]`: decode time per token against
// position for a decoder on com.microsoft Attention with ONE stacked cache per layer (past_N
// [2, 1, heads, past, head size]; test/helpers/tiny-gpt.ts 'stacked': vocab 256, embed 128, 4 heads,
// 2 layers) on the wasm backend, 1 thread. Peers, interleaved in each round: the same weights as
// com.microsoft MultiHeadAttention with split key/value caches ('mha', the form generate() handled
// before), the stacked model through run() only (generate()'s window: the cache shifted every step),
// and onnxruntime-web wasm 1 thread on the stacked model (its presents fed back). Per length L: a
// prompt of 8 tokens, then L tokens; the median ms per token over the first and last quarter of the
// positions (the first decode step, which prepares the plan, left out; the prefill and that step
// apart), and CPU ms per token over
// the whole generation (process.cpuUsage: user + system, prefill included), medians of 3 rounds
// (KILN_DECODE_ROUNDS). Also whether the greedy tokens of all four agree. Then the prefill alone
// (one run over a prompt of P tokens, every past empty: what generate() runs first), stacked vs
// split on Kiln wasm 1t, 15 runs each alternating, median wall ms and the ratio of summed CPU time.
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession, generate, type GenerateSession } from '../../runtime/node.ts';
import { argmax } from '../../runtime/generate/sampling.ts';
import { makeRng } from '../../test/helpers/rng-core.ts';
import { emptyPastDims, tinyGpt, type TinyGptConfig } from '../../test/helpers/tiny-gpt.ts';

const lengths = (process.argv[2] ?? '32,128,512').split(',').map(Number);
const ROUNDS = Number(process.env.KILN_DECODE_ROUNDS ?? 3);
const base = { vocab: 256, embed: 128, heads: 4, layers: 2, maxPositions: Math.max(...lengths) + 16 } as const;
const stacked: TinyGptConfig = { ...base, attention: 'stacked' };
const split: TinyGptConfig = { ...base, attention: 'mha' };
const stackedBytes = encodeOnnxModel(tinyGpt(stacked, makeRng(20261203)));
const splitBytes = encodeOnnxModel(tinyGpt(split, makeRng(20261203)));
const prompt = Array.from({ length: 8 }, (_, i) => (i * 37) % base.vocab);

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const kilnStacked = await InferenceSession.create(stackedBytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const kilnSplit = await InferenceSession.create(splitBytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
const theirs = await ort.InferenceSession.create(stackedBytes, { executionProviders: ['wasm'], logSeverityLevel: 3 });

interface Run {
  /** ms between consecutive tokens: entry i is the decode step that made token i + 1 */
  readonly steps: number[];
  /** ms from the call to the first token: the prefill */
  readonly prefillMs: number;
  readonly cpuMs: number;
  readonly tokens: number[];
  readonly cache?: string;
}

async function timed(f: (onToken: (token: number) => void) => Promise<string | undefined>): Promise<Run> {
  const at: number[] = [];
  const tokens: number[] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const cache = await f((token) => {
    at.push(performance.now());
    tokens.push(token);
  });
  const used = process.cpuUsage(cpu);
  return { steps: at.slice(1).map((t, i) => t - at[i]!), prefillMs: at[0]! - t0, cpuMs: (used.user + used.system) / 1000, tokens, ...(cache ? { cache } : {}) };
}

const kilnRun = (session: GenerateSession, n: number): Promise<Run> => timed(async (onToken) => (await generate(session, { inputIds: prompt, maxNewTokens: n + 1, onToken })).cache);

const ortRun = (n: number): Promise<Run> => timed(async (onToken) => {
  const i64 = (v: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const sequence = [...prompt];
  let pasts: Record<string, ort.Tensor> = Object.fromEntries(emptyPastDims(stacked).map(({ name, dims }) => [name, new ort.Tensor('float32', new Float32Array(0), dims)]));
  for (let step = 0; step <= n; step++) {
    const ids = step === 0 ? sequence : [sequence[sequence.length - 1]!];
    const start = sequence.length - ids.length;
    const out = await theirs.run({ input_ids: i64(ids), attention_mask: i64(sequence.map(() => 1)), position_ids: i64(ids.map((_, i) => start + i)), ...pasts });
    const logits = out.logits!.data as Float32Array;
    const token = argmax(logits.subarray(logits.length - base.vocab));
    sequence.push(token);
    pasts = Object.fromEntries(Array.from({ length: base.layers }, (_, l) => [`past_${l}`, out[`present_${l}`]!]));
    onToken(token);
  }
  return undefined;
});

/** The session through run() only: generate() keeps its window. */
const windowed = (s: InferenceSession): GenerateSession => ({ inputMetadata: s.inputMetadata, outputNames: s.outputNames, gpuDevice: s.gpuDevice, run: (feeds, fetches) => s.run(feeds, fetches) });

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const runtimes: [string, (n: number) => Promise<Run>][] = [
  ['kiln wasm 1t, stacked (Attention), generate()', (n) => kilnRun(kilnStacked, n)],
  ['kiln wasm 1t, split (MultiHeadAttention), generate()', (n) => kilnRun(kilnSplit, n)],
  ['kiln wasm 1t, stacked, through run() only', (n) => kilnRun(windowed(kilnStacked), n)],
  ['ort wasm 1t, stacked, presents fed back', ortRun],
];
const load0 = loadavg()[0]!;
console.log(`stacked-cache decode on wasm: ms per token, median of the first / last quarter of positions; CPU ms per token over the generation; median of ${ROUNDS} rounds, runtimes interleaved`);
console.log('| tokens | runtime | cache | prefill ms | 1st decode step ms | first quarter ms | last quarter ms | last/first | CPU ms/token |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const n of lengths) {
  const results = new Map(runtimes.map(([name]) => [name, { prefill: [] as number[], step1: [] as number[], first: [] as number[], last: [] as number[], cpu: [] as number[], cache: '', tokens: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of runtimes) {
      const r = await run(n);
      const q = Math.max(1, Math.floor(r.steps.length / 4));
      const into = results.get(name)!;
      into.prefill.push(r.prefillMs);
      into.step1.push(r.steps[0]!);
      into.first.push(median(r.steps.slice(1, q + 1))); // steps[0] prepares the decode plan
      into.last.push(median(r.steps.slice(r.steps.length - q)));
      into.cpu.push(r.cpuMs / (n + 1));
      into.cache = r.cache ?? 'grow (ort)';
      into.tokens = r.tokens;
    }
  }
  for (const [name, r] of results) {
    const first = median(r.first), last = median(r.last);
    console.log(`| ${n} | ${name} | ${r.cache} | ${median(r.prefill).toFixed(2)} | ${median(r.step1).toFixed(2)} | ${first.toFixed(3)} | ${last.toFixed(3)} | ${(last / first).toFixed(2)} | ${median(r.cpu).toFixed(3)} |`);
  }
  const all = [...results.values()].map((r) => r.tokens.join());
  console.log(`greedy tokens at L = ${n}: ${all.every((t) => t === all[0]) ? 'all four agree' : `differ: ${[...results.keys()].map((k, i) => `${k}: ${all[i]!.slice(0, 60)}`).join(' / ')}`}`);
}
console.log('\n| prompt | Kiln wasm 1t stacked (Attention) ms | split (MultiHeadAttention) ms | CPU time stacked / split |');
console.log('|---|---|---|---|');
for (const P of [8, 64, 256]) {
  const feedsFor = (c: TinyGptConfig): Record<string, Tensor<'int64'> | Tensor<'float32'>> => {
    const i64 = (v: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
    const ids = Array.from({ length: P }, (_, i) => (i * 37) % base.vocab);
    return { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)), ...Object.fromEntries(emptyPastDims(c).map(({ name, dims }) => [name, new Tensor('float32', new Float32Array(0), dims)])) };
  };
  const sides = [{ s: kilnStacked, feeds: feedsFor(stacked), ms: [] as number[], cpu: 0 }, { s: kilnSplit, feeds: feedsFor(split), ms: [] as number[], cpu: 0 }];
  for (const side of sides) await side.s.run(side.feeds, ['logits']); // plans for this length
  for (let i = 0; i < 15; i++) {
    for (const side of sides) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      await side.s.run(side.feeds, ['logits']);
      side.ms.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      side.cpu += used.user + used.system;
    }
  }
  console.log(`| ${P} | ${median(sides[0]!.ms).toFixed(3)} | ${median(sides[1]!.ms).toFixed(3)} | ${(sides[0]!.cpu / sides[1]!.cpu).toFixed(2)} |`);
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
await kilnStacked.release();
await kilnSplit.release();
await theirs.release();
