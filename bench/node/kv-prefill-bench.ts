// `node --import tsx bench/node/kv-prefill-bench.ts [runs] [lengths]`: medians of one kiln.KvCacheAttention
// node on WebGPU (SwiftShader when no GPU exists) with S = L queries at offset 0 over a cache of
// L + 64 positions (a prefill written into generate()'s in-place cache), the tiny GPT's heads (4 of 32,
// as bench/node/decode-bench.ts), and for scale the com.microsoft MultiHeadAttention prefill of the
// same shape (causal, no past: the flash kernel). Each run is a full session.run with uploads and
// readback; the two are interleaved. KvCacheAttention takes the tiled form from 8 queries
// (kernels/kv-cache-write/attention-webgpu.ts); its "before" numbers come from running this script
// with that file as it was before the tiled form (one invocation per query row).
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { makeRng } from '../../test/helpers/random.ts';

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
console.log('| L | KvCacheAttention prefill (WebGPU) | MultiHeadAttention prefill (WebGPU, flash) | kernel |');
console.log('|---|---|---|---|');
for (const L of lengths) {
  const M = L + 64;
  const kv = await InferenceSession.create(kvModel, { executionProviders: ['webgpu'] });
  const mha = await InferenceSession.create(mhaModel, { executionProviders: ['webgpu'] });
  const kvFeeds = { q: tensor([1, N, L, H]), k: tensor([1, N, M, H]), v: tensor([1, N, M, H]), offset: new Tensor('float32', [0], [1]) };
  const mhaFeeds = { q: tensor([1, L, N * H]), k: tensor([1, L, N * H]), v: tensor([1, L, N * H]) };
  await kv.run(kvFeeds);
  await mha.run(mhaFeeds);
  const step = kv.lastPlacement!.steps.find((s) => s.opType === 'KvCacheAttention')!;
  if (step.device !== 'gpu') throw new Error(`KvCacheAttention ran on ${step.device}`);
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < runs; r++) {
    for (const [i, [s, f]] of ([[kv, kvFeeds], [mha, mhaFeeds]] as const).entries()) {
      const t0 = performance.now();
      const out = await s.run(f);
      await out.y!.getData();
      times[i]!.push(performance.now() - t0);
    }
  }
  console.log(`| ${L} | ${median(times[0]).toFixed(1)} | ${median(times[1]).toFixed(1)} | ${step.implementation} |`);
  await kv.release();
  await mha.release();
}
