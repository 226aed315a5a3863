// `node --import tsx bench/node/kv-prefill-bench.ts [runs] [lengths]`: medians of one kiln.KvCacheAttention
// node on WebGPU (SwiftShader when no GPU exists) with S = L queries at offset 0 over a cache of
// L + 64 positions (a prefill written into generate()'s in-place cache), the tiny GPT's heads (4 of 32,
// as bench/node/decode-bench.ts), and for scale the com.microsoft MultiHeadAttention prefill of the
// same shape (causal, no past: the flash kernel). Each run is a full session.run with uploads and
// readback; the three are interleaved. KvCacheAttention takes the tiled form from 64 queries
// (kernels/kv-cache-write/attention-webgpu.ts); "per row" is the same node in a session planned with
// globalThis.KILN_KV_TILED_FROM = Infinity: one invocation per query row, the form before the tiled one.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { makeRng } from '../../test/helpers/random.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const runs = Math.max(3, Number(process.argv[2] ?? 7));
const lengths = (process.argv[3] ?? '32,128,512').split(',').map(Number);
const N = 4, H = 32;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rng = makeRng(1234);
const tensor = (dims: number[]): AnyTensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.range(-1, 1)), dims);

const kvModel = encodeOnnxModel({
  nodes: [{ opType: 'KvCacheAttention', domain: 'kiln', inputs: ['q', 'k', 'v', 'offset'], outputs: ['y'], attrs: { scale: 1 / Math.sqrt(H) } }],
  inputs: ['q', 'k', 'v', 'offset'].map((name) => ({ name, dtype: 'float32' as const })),
  outputs: [{ name: 'y', dtype: 'float32' }],
  opsets: { '': 17, kiln: 1 },
});
const mhaModel = encodeOnnxModel({
  nodes: [{ opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['y'], attrs: { num_heads: N, unidirectional: 1 } }],
  inputs: ['q', 'k', 'v'].map((name) => ({ name, dtype: 'float32' as const })),
  outputs: [{ name: 'y', dtype: 'float32' }],
  opsets: { '': 17, 'com.microsoft': 1 },
});

console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${runs} runs per length, medians in ms`);
console.log('| L | KvCacheAttention per row | KvCacheAttention as planned (tiled from 64 queries) | MultiHeadAttention prefill (flash) |');
console.log('|---|---|---|---|');
const knob = devKnobs;
for (const L of lengths) {
  const M = L + 64;
  const perRow = await InferenceSession.create(kvModel, { executionProviders: ['webgpu'] });
  const kv = await InferenceSession.create(kvModel, { executionProviders: ['webgpu'] });
  const mha = await InferenceSession.create(mhaModel, { executionProviders: ['webgpu'] });
  const kvFeeds = { q: tensor([1, N, L, H]), k: tensor([1, N, M, H]), v: tensor([1, N, M, H]), offset: new Tensor('float32', [0], [1]) };
  const mhaFeeds = { q: tensor([1, L, N * H]), k: tensor([1, L, N * H]), v: tensor([1, L, N * H]) };
  knob.KILN_KV_TILED_FROM = Infinity; // read when the plan is built (the first run)
  const a = (await perRow.run(kvFeeds)).y!.data as Float32Array;
  delete knob.KILN_KV_TILED_FROM;
  const b = (await kv.run(kvFeeds)).y!.data as Float32Array;
  await mha.run(mhaFeeds);
  const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
  if (!(diff < 1e-4)) throw new Error(`the two forms differ by ${diff}`);
  for (const s of [perRow, kv]) if (s.lastPlacement!.steps.find((x) => x.opType === 'KvCacheAttention')?.device !== 'gpu') throw new Error('KvCacheAttention did not run on the GPU');
  const times: [number[], number[], number[]] = [[], [], []];
  for (let r = 0; r < runs; r++) {
    for (const [i, [s, f]] of ([[perRow, kvFeeds], [kv, kvFeeds], [mha, mhaFeeds]] as const).entries()) {
      const t0 = performance.now();
      const out = await s.run(f);
      await out.y!.getData();
      times[i]!.push(performance.now() - t0);
    }
  }
  console.log(`| ${L} | ${median(times[0]).toFixed(1)} | ${median(times[1]).toFixed(1)} | ${median(times[2]).toFixed(1)} |`);
  await perRow.release();
  await kv.release();
  await mha.release();
}
