// The GPT workload of the bench page (bench/gpt-decode.html): tokens/s of the trained sonnet GPT,
// prefill and decode apart, at each length L, in the browser, where onnxruntime-web's WebGPU EP runs
// (its Node build has none: bench/node/gpt-decode-bench.ts covers Node). Same protocol as that script:
// - prefill: one run over an L-token prompt; tokens/s = L / its time (median of the rounds);
// - decode: a 4-token prompt, then tokens up to position L; tokens/s from the median ms per token
//   (the first decode step, where Kiln prepares its decode plan, left out), and the medians over the
//   first and last quarter of positions.
// Kiln: generate() on a session in the page (worker: false), so the cache is written in place;
// onnxruntime-web: the usual loop, each present fed back as the next past, greedy (argmax) as Kiln.
// Runtimes run one after another per round (interleaved across rounds), each session made once.
import * as kiln from '../../runtime/index.ts';
import { ortGreedyDecode } from './ort-greedy-decode.ts';

type Runtime = 'kiln-webgpu' | 'kiln-wasm-1t' | 'ort-webgpu' | 'ort-wasm-1t';
const ALL: readonly Runtime[] = ['kiln-webgpu', 'kiln-wasm-1t', 'ort-webgpu', 'ort-wasm-1t'];

interface OrtTensor { readonly data: unknown }
interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  readonly env: { wasm: { wasmPaths?: unknown; numThreads?: number } };
  readonly Tensor: new (type: string, data: unknown, dims: readonly number[]) => unknown;
  readonly InferenceSession: { create(bytes: Uint8Array, opts: { executionProviders: string[] }): Promise<OrtSession> };
}

export interface GptRow {
  readonly L: number;
  readonly runtime: Runtime;
  readonly prefillTokPerS: number;
  readonly decodeTokPerS: number;
  readonly firstQuarterMs: number;
  readonly lastQuarterMs: number;
  readonly note: string;
}

const params = new URLSearchParams(location.search);
const lengths = (params.get('lengths') ?? '32,128,512').split(',').map(Number);
const rounds = Number(params.get('rounds') ?? 2);
const runtimes = (params.get('runtimes')?.split(',') ?? [...ALL]).filter((r): r is Runtime => (ALL as readonly string[]).includes(r));
const PROMPT = 4;
const ORT_DIST = '/node_modules/onnxruntime-web/dist/';
const logEl = document.getElementById('log')!;
const log = (s: string): void => void (logEl.textContent += `${s}\n`);
const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function load(url: string): Promise<Uint8Array> {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

interface Bench {
  prefill(n: number): Promise<number>;
  decode(upTo: number): Promise<number[]>;
  readonly note: string;
  release(): Promise<void>;
}

async function kilnBench(runtime: Runtime, bytes: Uint8Array, ids: (n: number) => number[]): Promise<Bench> {
  const provider = runtime === 'kiln-webgpu' ? 'webgpu' : { name: 'wasm' as const, numThreads: 1, wasmPaths: '/dist/wasm/' };
  const probe = await kiln.InferenceSession.create(bytes, { executionProviders: ['js'], worker: false });
  const presents = probe.outputNames.filter((n) => n.startsWith('present'));
  await probe.release();
  const s = await kiln.InferenceSession.create(bytes, {
    executionProviders: [provider], worker: false,
    ...(runtime === 'kiln-webgpu' ? { preferredOutputLocation: Object.fromEntries(presents.map((n) => [n, 'gpu-buffer' as const])) } : {}),
  });
  let cache = '?';
  return {
    async prefill(n) {
      const t0 = performance.now();
      await kiln.generate(s, { inputIds: ids(n), maxNewTokens: 1, topK: 1 });
      return performance.now() - t0;
    },
    async decode(upTo) {
      const at: number[] = [];
      const r = await kiln.generate(s, { inputIds: ids(PROMPT), maxNewTokens: upTo - PROMPT, topK: 1, onToken: () => void at.push(performance.now()) });
      cache = r.cache;
      return at.slice(1).map((t, i) => t - at[i]!);
    },
    get note() {
      return `${s.adapterInfo ?? s.executionProvider}, .kiln, cache ${cache}`;
    },
    release: () => s.release(),
  };
}

async function ortBench(runtime: Runtime, bytes: Uint8Array, ids: (n: number) => number[], vocab: number, heads: number, headDim: number): Promise<Bench> {
  const ort = (await import(/* @vite-ignore */ `${ORT_DIST}${runtime === 'ort-webgpu' ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs'}`)) as OrtModule;
  ort.env.wasm.wasmPaths = ORT_DIST;
  ort.env.wasm.numThreads = 1;
  const s = await ort.InferenceSession.create(bytes, { executionProviders: [runtime === 'ort-webgpu' ? 'webgpu' : 'wasm'] });
  const i64 = (v: readonly number[]): unknown => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const emptyPasts = (): Record<string, unknown> => Object.fromEntries(s.inputNames.filter((n) => n.startsWith('past')).map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])]));
  return {
    async prefill(n) {
      const prompt = ids(n);
      const t0 = performance.now();
      const out = await s.run({ input_ids: i64(prompt), attention_mask: i64(prompt.map(() => 1)), position_ids: i64(prompt.map((_, i) => i)), ...emptyPasts() });
      void out['logits']!.data; // the WebGPU EP's outputs are on the CPU by default: read already
      return performance.now() - t0;
    },
    decode: (upTo) => ortGreedyDecode(s, ids(PROMPT), upTo, vocab, { i64, emptyPasts, presentOf: (n) => n.replace('past_key_values', 'present') }),
    note: runtime === 'ort-webgpu' ? 'webgpu EP, .onnx (QDQ)' : '1 thread, .onnx (QDQ)',
    release: () => s.release(),
  };
}

async function main(): Promise<{ rows: GptRow[]; userAgent: string; adapter: string }> {
  const kilnBytes = await load('/demo/models/sonnets-gpt-int4.kiln');
  const onnxBytes = await load('/demo/models/sonnets-gpt-int4.onnx');
  const meta = await kiln.InferenceSession.create(kilnBytes, { executionProviders: ['js'], worker: false });
  const vocab = (meta.bundle?.metadata?.['tokenizer'] as { vocab: string[] }).vocab.length;
  const past = meta.inputMetadata.find((m) => m.name.startsWith('past_key_values'))!;
  const [heads, headDim] = [Number(past.shape[1]), Number(past.shape[3])];
  await meta.release();
  const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);
  const benches = new Map<Runtime, Bench>();
  for (const r of runtimes) benches.set(r, r.startsWith('kiln') ? await kilnBench(r, kilnBytes, ids) : await ortBench(r, onnxBytes, ids, vocab, heads, headDim));
  const adapter = await navigator.gpu?.requestAdapter();
  const rows: GptRow[] = [];
  for (const L of lengths) {
    const got = new Map(runtimes.map((r) => [r, { prefill: [] as number[], step: [] as number[], first: [] as number[], last: [] as number[] }]));
    for (const r of runtimes) await benches.get(r)!.prefill(L); // untimed: plans / pipelines of this length
    for (let round = 0; round < rounds; round++) {
      for (const r of runtimes) {
        const b = benches.get(r)!;
        const g = got.get(r)!;
        g.prefill.push(await b.prefill(L));
        const t = (await b.decode(L)).slice(1);
        const q = Math.max(1, Math.floor(t.length / 4));
        g.step.push(median(t));
        g.first.push(median(t.slice(0, q)));
        g.last.push(median(t.slice(t.length - q)));
        log(`L ${L} round ${round + 1} ${r}: prefill ${g.prefill.at(-1)!.toFixed(1)} ms, decode ${g.step.at(-1)!.toFixed(2)} ms/token`);
      }
    }
    for (const r of runtimes) {
      const g = got.get(r)!;
      rows.push({ L, runtime: r, prefillTokPerS: (L * 1000) / median(g.prefill), decodeTokPerS: 1000 / median(g.step), firstQuarterMs: median(g.first), lastQuarterMs: median(g.last), note: benches.get(r)!.note });
    }
  }
  for (const b of benches.values()) await b.release();
  return { rows, userAgent: navigator.userAgent, adapter: adapter ? `${adapter.info.vendor} ${adapter.info.architecture}` : 'none' };
}

(globalThis as { kilnGptBench?: Promise<unknown> }).kilnGptBench = main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  return { error: e instanceof Error ? e.message : String(e) };
});
