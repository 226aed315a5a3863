// `node --import tsx bench/node/gqa-decode-bench.ts [128,512,2048]`: decode time per token against
// position and generation length for a decoder on com.microsoft GroupQueryAttention
// (test/helpers/tiny-gpt.ts 'gqa': vocab 256, embed 128, 4 query heads and 2 K/V heads of 32, 2
// layers) through generate() on the wasm backend, 1 thread (KILN_DECODE_THREADS). generate()'s cache
// holds prompt + L rows from the first decode step, so what a step copies grows with L, not with the
// position. Per length L: a prompt of 8 tokens, then L tokens; the median ms per decode step over the
// first and last quarter of the positions (the first decode step, which prepares the plan, left
// out), CPU ms per decode step (process.cpuUsage between the second and the last token: user +
// system, this process only), and the bytes the last step copied inside memory from presents to
// pasts (Placement.carriedCopyBytes: 'n/a' on trees without it). Medians of KILN_DECODE_ROUNDS
// rounds (3), lengths interleaved within a round. Run it in two trees alternately to compare them
// (docs/decisions.md gqa-inplace); the greedy tokens are printed as a hash to check they agree.
import { loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession, generate } from '../../runtime/node.ts';
import { inPlaceSession } from '../../runtime/generate/kv-inplace.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { makeRng } from '../../test/helpers/rng-core.ts';
import { tinyGpt, type TinyGptConfig } from '../../test/helpers/tiny-gpt.ts';

const lengths = (process.argv[2] ?? '128,512,2048').split(',').map(Number);
const ROUNDS = Number(process.env.KILN_DECODE_ROUNDS ?? 3);
const THREADS = Number(process.env.KILN_DECODE_THREADS ?? 1);
const PROMPT = 8;
const config: TinyGptConfig = { vocab: 256, embed: 128, heads: 4, layers: 2, maxPositions: Math.max(...lengths) + PROMPT + 1, attention: 'gqa' };
const model = encodeOnnxModel(tinyGpt(config, makeRng(20261210)));
const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 37) % config.vocab);

const session = await InferenceSession.create(model, { executionProviders: [{ name: 'wasm', numThreads: THREADS }] });
const decoder = (await inPlaceSession(session, findKvPairs(session.inputNames, session.outputNames)))!; // the one generate() derives

interface Run {
  readonly steps: number[];
  readonly cpuMs: number;
  readonly copyBytes: number | undefined;
  readonly tokens: string;
}

async function run(L: number): Promise<Run> {
  const at: number[] = [];
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  const result = await generate(session, {
    inputIds: prompt, maxNewTokens: L + 1,
    onToken: () => {
      at.push(performance.now());
      if (at.length === 2) cpu0 = process.cpuUsage(); // after the first decode step (the plan's first run)
      if (at.length === L + 1) cpu = process.cpuUsage(cpu0);
    },
  });
  return {
    steps: at.slice(1).map((t, i) => t - at[i]!),
    cpuMs: cpu ? (cpu.user + cpu.system) / 1000 / (L - 1) : NaN,
    copyBytes: decoder.lastPlacement?.carriedCopyBytes,
    tokens: createHash('sha256').update(result.tokens.join()).digest('hex').slice(0, 8),
  };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const L of lengths) await run(L); // warm-up: each length's plans
const got = new Map(lengths.map((L) => [L, [] as Run[]]));
const load0 = loadavg()[0]!;
for (let round = 0; round < ROUNDS; round++) for (const L of lengths) got.get(L)!.push(await run(L));
console.log(`GQA decode on wasm ${THREADS}t (tiny GPT gqa: embed 128, 4 heads / 2 K/V heads of 32, 2 layers; prompt ${PROMPT}); medians of ${ROUNDS} rounds`);
console.log('| L | first quarter ms/step | last quarter ms/step | last/first | CPU ms/step | carried copy B/step | tokens |');
console.log('|---|---|---|---|---|---|---|');
for (const L of lengths) {
  const runs = got.get(L)!;
  const q = Math.max(1, Math.floor(L / 4));
  const first = median(runs.map((r) => median(r.steps.slice(1, q + 1))));
  const last = median(runs.map((r) => median(r.steps.slice(r.steps.length - q))));
  const copy = runs[0]!.copyBytes;
  console.log(`| ${L} | ${first.toFixed(3)} | ${last.toFixed(3)} | ${(last / first).toFixed(2)} | ${median(runs.map((r) => r.cpuMs)).toFixed(3)} | ${copy ?? 'n/a'} | ${runs[0]!.tokens} |`);
}
console.log(`load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
await session.release();
