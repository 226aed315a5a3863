// `node --import tsx bench/node/wasm-kv-bench.ts [model.kiln] [tokens]`: decode time per token
// against position on the wasm backend, for generate()'s KV cache kept in wasm memory ('carried':
// fed once, written in place, never copied out) against the path before it ('fed each step':
// the in-place graph, each past copied into memory and each present out to JS every step; set by
// globalThis.KILN_KV_FEED_EACH_STEP) and onnxruntime-web wasm (its usual loop, the presents fed back
// as the next pasts). Model: the demo's trained GPT (demo/models/sonnets-gpt-int4.kiln, its QDQ
// .onnx beside it for onnxruntime-web). A 4-token prompt, then tokens up to position `tokens`
// (default 512). Per position P in 32 / 128 / 512: the median ms of the 16 decode steps ending at
// P, median across rounds; rounds interleave the runtimes (3 by default, KILN_KV_ROUNDS). Also the
// bytes a decode step copies between JS and wasm memory (Placement.hostBytes) at those positions,
// the medians of the first and last quarter of the steps (the first step, which prepares the plan,
// left out), and tokens/s: 1000 / the median step of the generation (median across rounds), and over the whole
// generation (tokens / the sum of each position's median across rounds: stalls of the shared cores
// weigh here, so read it with 3 rounds or more).
// KILN_KV_THREADS=2 runs Kiln with 2 threads (onnxruntime-web stays at 1).
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { InferenceSession, generate } from '../../runtime/node.ts';
import { ortGreedyDecode } from '../page/ort-greedy-decode.ts';
import { inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const modelPath = process.argv[2] ?? 'demo/models/sonnets-gpt-int4.kiln';
const upTo = Number(process.argv[3] ?? 512);
const ROUNDS = Number(process.env.KILN_KV_ROUNDS ?? 3);
const THREADS = Number(process.env.KILN_KV_THREADS ?? 1);
const PROMPT = 4;
const POSITIONS = [32, 128, 512].filter((p) => p <= upTo);
const WINDOW = 16;

ort.env.wasm.numThreads = 1;
const kiln = await InferenceSession.create(readFileSync(modelPath), { executionProviders: [{ name: 'wasm', numThreads: THREADS }] });
const theirs = await ort.InferenceSession.create(readFileSync(modelPath.replace(/\.kiln$/i, '.onnx')), { executionProviders: ['wasm'] });
const vocab = (kiln.bundle?.metadata?.['tokenizer'] as { vocab: string[] }).vocab.length;
const pastMeta = kiln.inputMetadata.find((m) => m.name.startsWith('past_key_values'))!;
const [heads, headDim] = [Number(pastMeta.shape[1]), Number(pastMeta.shape[3])];
const pairs = findKvPairs(kiln.inputNames, kiln.outputNames);
const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);

const knob = devKnobs;
/** per decode step: [ms, host bytes]; entry i is the step at position PROMPT + i + 1 */
async function kilnDecode(fedEachStep: boolean): Promise<{ ms: number[]; bytes: number[] }> {
  knob.KILN_KV_FEED_EACH_STEP = fedEachStep;
  try {
    const decoder = (await inPlaceSession(kiln, pairs))!; // the session generate() derives under the same knob
    const at: number[] = [];
    const bytes: number[] = [];
    await generate(kiln, { inputIds: ids(PROMPT), maxNewTokens: upTo - PROMPT, topK: 1, onToken: () => void (at.push(performance.now()), bytes.push(at.length > 1 ? decoder.lastPlacement!.hostBytes! : 0)) });
    return { ms: at.slice(1).map((t, i) => t - at[i]!), bytes: bytes.slice(1) };
  } finally {
    delete knob.KILN_KV_FEED_EACH_STEP;
  }
}

const i64 = (v: readonly number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
async function ortDecode(): Promise<{ ms: number[]; bytes: number[] }> {
  const emptyPasts = (): Record<string, ort.Tensor> => Object.fromEntries(pairs.map((p) => [p.past, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])]));
  const presents = new Map(pairs.map((p) => [p.past, p.present]));
  return { ms: await ortGreedyDecode(theirs, ids(PROMPT), upTo, vocab, { i64, emptyPasts, presentOf: (n) => presents.get(n)! }), bytes: [] };
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const runtimes: [string, () => Promise<{ ms: number[]; bytes: number[] }>][] = [
  [`Kiln wasm ${THREADS}t, fed each step (before)`, () => kilnDecode(true)],
  [`Kiln wasm ${THREADS}t, carried (after)`, () => kilnDecode(false)],
  ['ort-web wasm 1t', ortDecode],
];
for (const [, run] of runtimes) await run(); // warm-up: plans, prepared decoders
const got = new Map(runtimes.map(([name]) => [name, [] as { ms: number[]; bytes: number[] }[]]));
const load0 = loadavg()[0]!;
for (let round = 0; round < ROUNDS; round++) for (const [name, run] of runtimes) got.get(name)!.push(await run());

// ms[i] is the decode step that attends PROMPT + i + 1 keys; '@P' is the window of steps ending at the
// one that attends P keys (at the run's end: the last step, P - 1)
const stepOf = (position: number): number => Math.min(position - PROMPT - 1, upTo - PROMPT - 2);
console.log(`${modelPath}: vocab ${vocab}, ${pairs.length / 2} layers, ${heads} heads x ${headDim}; prompt ${PROMPT}, tokens up to position ${upTo}; ${ROUNDS} rounds interleaved`);
console.log(`| runtime | ${POSITIONS.map((p) => `ms/token @${p}`).join(' | ')} | @${POSITIONS.at(-1)}/@${POSITIONS[0]} | 1st / last quarter ms | tok/s (median step) | tok/s (whole run) | ${POSITIONS.map((p) => `bytes copied/step @${p}`).join(' | ')} |`);
console.log(`|---|${POSITIONS.map(() => '---|').join('')}---|---|---|---|${POSITIONS.map(() => '---|').join('')}`);
for (const [name] of runtimes) {
  const rounds = got.get(name)!;
  const at = POSITIONS.map((p) => median(rounds.map((r) => median(r.ms.slice(Math.max(1, stepOf(p) - WINDOW + 1), stepOf(p) + 1)))));
  const steps = rounds[0]!.ms.length;
  const total = Array.from({ length: steps - 1 }, (_, i) => median(rounds.map((r) => r.ms[i + 1]!))).reduce((a, b) => a + b, 0);
  const bytes = POSITIONS.map((p) => (rounds[0]!.bytes.length > 0 ? String(rounds[0]!.bytes[Math.min(stepOf(p), rounds[0]!.bytes.length - 1)] ?? 'n/a') : 'n/a'));
  const medianStep = median(rounds.map((r) => median(r.ms.slice(1))));
  const q = Math.max(1, Math.floor((steps - 1) / 4));
  const quarters = [median(rounds.map((r) => median(r.ms.slice(1, q + 1)))), median(rounds.map((r) => median(r.ms.slice(steps - q))))];
  console.log(`| ${name} | ${at.map((v) => v.toFixed(3)).join(' | ')} | ${(at.at(-1)! / at[0]!).toFixed(2)} | ${quarters.map((v) => v.toFixed(3)).join(' / ')} | ${(1000 / medianStep).toFixed(0)} | ${(((steps - 1) * 1000) / total).toFixed(0)} | ${bytes.join(' | ')} |`);
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
await kiln.release();
await theirs.release();
