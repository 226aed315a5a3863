// `node --import tsx bench/node/worker-decode-bench.ts [32,128,512]`: time per generated token against
// its position for a session in the Kiln worker, in Chromium (script-tag build, dist/ built by the
// test bed), on the tiny GPT of decode-bench.ts (vocab 256, embed 128, 4 heads, 2 layers; prompt 8).
// 'after': generate(session) -- the loop runs in the worker, the cache written in place there.
// 'before': generate() on the same session seen through run() only (what every worker session got
// before): the loop in the page, the fixed window, the cache crossing to the worker and back each step.
// Times are onToken arrivals in the page. Reported per length L: median ms per token over the first
// and the last quarter of positions, their ratio (1.0 = flat), and the total of steps 2..L.
// Backends: wasm (1 thread) and WebGPU (SwiftShader here); WebGPU 'before' runs only up to
// KILN_DECODE_GPU_MAX (default 128: ~1 s per token at 512). Rounds: KILN_DECODE_ROUNDS (default 2),
// before/after interleaved; medians across rounds.
import { loadavg } from 'node:os';
import type * as Kiln from '../../runtime/index.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { makeRng } from '../../test/helpers/rng-core.ts';
import { tinyGpt, type TinyGptConfig } from '../../test/helpers/tiny-gpt.ts';
import { openDeliveryBed } from '../../test/browser/helpers/delivery-bed.ts';

type KilnModule = typeof Kiln;
const lengths = (process.argv[2] ?? '32,128,512').split(',').map(Number);
const ROUNDS = Number(process.env.KILN_DECODE_ROUNDS ?? 2);
const GPU_MAX = Number(process.env.KILN_DECODE_GPU_MAX ?? 128);
const config: TinyGptConfig = { vocab: 256, embed: 128, heads: 4, layers: 2, maxPositions: Math.max(...lengths) + 16 };
const bytes = Array.from(encodeOnnxModel(tinyGpt(config, makeRng(20261203))));
const prompt = Array.from({ length: 8 }, (_, i) => (i * 37) % config.vocab);

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const bed = await openDeliveryBed();
try {
  const { page } = await bed.open('/pages/script-tag.html');
  await page.waitForFunction(() => 'kiln' in globalThis);
  console.log(`# load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| backend | L | path | cache | 1st quarter ms | last quarter ms | last/first | total ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const provider of ['wasm', 'webgpu'] as const) {
    for (const L of lengths) {
      const paths = provider === 'webgpu' && L > GPU_MAX ? (['after'] as const) : (['before', 'after'] as const);
      const rounds: Record<string, { cache: string; steps: number[] }[]> = { before: [], after: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const path of paths) {
          rounds[path]!.push(await page.evaluate(async ({ bytes, prompt, L, provider, path }) => {
            const kiln = (globalThis as { kiln?: KilnModule }).kiln!;
            const ep = provider === 'wasm' ? [{ name: 'wasm' as const, numThreads: 1 }] : ['webgpu' as const];
            const s = await kiln.InferenceSession.create(Uint8Array.from(bytes), { executionProviders: ep });
            const seen = path === 'after' ? s : { inputMetadata: s.inputMetadata, outputNames: s.outputNames, run: s.run.bind(s) };
            const at: number[] = [];
            const g = await kiln.generate(seen, { inputIds: prompt, maxNewTokens: L + 1, onToken: () => void at.push(performance.now()) });
            await s.release();
            return { cache: g.cache, steps: at.slice(1).map((t, i) => t - at[i]!) };
          }, { bytes, prompt, L, provider, path }));
        }
      }
      for (const path of paths) {
        const runs = rounds[path]!;
        const q = Math.max(1, Math.floor(L / 4));
        const first = median(runs.map((x) => median(x.steps.slice(1, q + 1))));
        const last = median(runs.map((x) => median(x.steps.slice(-q))));
        const total = runs[0]!.steps.slice(1).reduce((sum, _, i) => sum + Math.min(...runs.map((x) => x.steps[i + 1]!)), 0);
        console.log(`| ${provider} | ${L} | ${path} | ${runs[0]!.cache} | ${first.toFixed(2)} | ${last.toFixed(2)} | ${(last / first).toFixed(2)} | ${total.toFixed(0)} |`);
      }
    }
  }
} finally {
  await bed.close();
}
