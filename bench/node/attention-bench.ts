// `node --import tsx bench/node/attention-bench.ts [runs] [lengths]`: medians of one
// com.microsoft MultiHeadAttention node (8 heads of 64, causal) at sequence lengths 32/128/512:
// prefill (S = L queries, no past) and one decode step (S = 1 against a past of L), on Kiln WebGPU
// (the flash kernel / the split-KV decode kernel; SwiftShader when no GPU exists), Kiln CPU
// ('js': the float32 online-softmax fast path) and onnxruntime-web's wasm EP (1 thread). Each run
// is a full session.run with uploads and readback of every output; runs are interleaved so machine
// noise hits all three. The load average is printed: other processes share this machine's cores.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { makeRng } from '../../test/helpers/random.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
ort.env.wasm.numThreads = 1;

const runs = Math.max(3, Number(process.argv[2] ?? 5));
const lengths = (process.argv[3] ?? '32,128,512').split(',').map(Number);
const N = 8, H = 64, D = N * H;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rng = makeRng(1234);

function model(past: boolean): Uint8Array {
  const names = ['q', 'k', 'v', '', '', '', ...(past ? ['pk', 'pv'] : [])];
  return encodeOnnxModel({
    nodes: [{ opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs: names, outputs: past ? ['y', 'ck', 'cv'] : ['y'], attrs: { num_heads: N, unidirectional: 1 } }],
    inputs: names.filter((n) => n !== '').map((name) => ({ name, dtype: 'float32' as const })),
    outputs: (past ? ['y', 'ck', 'cv'] : ['y']).map((name) => ({ name, dtype: 'float32' as const })),
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

const tensor = (dims: number[]): AnyTensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.range(-1, 1)), dims);

async function bench(label: string, bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<void> {
  const kiln = await Promise.all((['webgpu', 'js'] as const).map((ep) => InferenceSession.create(bytes, { executionProviders: [ep] })));
  const theirs = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])]));
  const runners: [string, () => Promise<unknown>][] = [
    ['kiln webgpu', () => kiln[0]!.run(feeds)],
    ['kiln cpu', () => kiln[1]!.run(feeds)],
    ['ort wasm', () => theirs.run(ortFeeds)],
  ];
  try {
    for (const [, run] of runners) await run(); // warm-up: pipelines, JIT, buffers
    if ((kiln[0]!.lastPlacement?.cpu ?? 0) > 0) console.log(`${label}: webgpu fell back to the CPU`);
    const times: number[][] = runners.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (const [i, [, run]] of runners.entries()) {
        const t0 = performance.now();
        await run();
        times[i]!.push(performance.now() - t0);
      }
    }
    console.log(`${label.padEnd(14)} ${runners.map(([name], i) => `${name} ${median(times[i]!).toFixed(2).padStart(9)} ms`).join('   ')}`);
  } finally {
    await Promise.all(kiln.map((s) => s.release()));
    await theirs.release();
  }
}

console.log(`MultiHeadAttention, ${N} heads x ${H}, causal; medians of ${runs} interleaved runs`);
for (const L of lengths) {
  await bench(`prefill ${L}`, model(false), { q: tensor([1, L, D]), k: tensor([1, L, D]), v: tensor([1, L, D]) });
  await bench(`decode @${L}`, model(true), { q: tensor([1, 1, D]), k: tensor([1, 1, D]), v: tensor([1, 1, D]), pk: tensor([1, N, L, H]), pv: tensor([1, N, L, H]) });
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
