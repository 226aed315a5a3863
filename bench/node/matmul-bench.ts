// `node --import tsx bench/node/matmul-bench.ts [runs] [sizes]`: GFLOP/s medians of one f32 MatMul
// (n x n times an n x n initializer; default sizes 256,512,1024) on Kiln WebGPU (Dawn; SwiftShader
// when VK_ICD_FILENAMES points at it and no GPU exists) and Kiln CPU. Same model bytes as the
// browser benchmark page (bench/page/workloads.ts). Each run is a full session.run: upload of the
// input, the dispatch, readback. Runs of the two backends are interleaved so machine noise hits
// both; the load average is printed because other processes share this machine's 2 cores.
// Caveat: while a GPU promise is pending, dawn.node ticks the device from the main thread in a busy
// loop (measured: ~630 ms of main-thread CPU per 10 dispatches of ~190 ms), which takes one of the
// 2 cores from SwiftShader's workers; the same kernels in Chromium (bench page) run ~2x faster.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { matmulWorkload, workloadInput } from '../page/workloads.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const runs = Math.max(5, Number(process.argv[2] ?? 7));
const sizes = (process.argv[3] ?? '256,512,1024').split(',').map(Number);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const n of sizes) {
  const w = matmulWorkload(n);
  const x = new Tensor('float32', workloadInput(w, 1), [n, n]);
  const eps = ['webgpu', 'cpu'] as const;
  const sessions = await Promise.all(eps.map((ep) => InferenceSession.create('bytes' in w.onnx ? w.onnx.bytes : w.onnx.url, { executionProviders: [ep] })));
  try {
    const times: number[][] = eps.map(() => []);
    const first: Float32Array[] = [];
    for (const [i, s] of sessions.entries()) {
      first.push((await s.run({ a: x })).y!.data as Float32Array); // warm-up: pipelines, JIT, buffers
      if (eps[i] === 'webgpu' && (s.lastPlacement?.cpu ?? 0) > 0) console.log(`matmul-${n}: webgpu fell back to the CPU`);
    }
    let maxDiff = 0;
    for (let i = 0; i < first[0]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(first[0]![i]! - first[1]![i]!));
    for (let r = 0; r < runs; r++) {
      for (const [i, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run({ a: x });
        times[i]!.push(performance.now() - t0);
      }
    }
    for (const [i, ep] of eps.entries()) {
      const m = median(times[i]!);
      const note = ep === 'webgpu' ? sessions[i]!.adapterInfo : '';
      console.log(`matmul-${n} ${ep.padEnd(6)} median ${m.toFixed(1).padStart(8)} ms ${(w.flops! / m / 1e6).toFixed(2).padStart(6)} GFLOP/s  best ${(w.flops! / Math.min(...times[i]!) / 1e6).toFixed(2)}  (${runs} runs) ${note}`);
    }
    console.log(`matmul-${n} max |webgpu - cpu| ${maxDiff.toExponential(1)}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}
