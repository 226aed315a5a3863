// `node --import tsx bench/node/nbits-copy-bench.ts [samples] [KxN list] [M]`: MatMulNBits on Kiln wasm
// (1 thread) with W kept packed (the per-row kernel at M < 4, dequantize-then-GEMM from 4 rows) against
// the same node run on a dequantized float32 copy of W (kernels/matmul-nbits/wasm.ts F32_COPY_BYTES),
// 4-bit and 8-bit, block 32, M rows of A: where the copy stops paying (W leaving the caches). Each
// session is created under its knob (globalThis.KILN_NBITS_F32_BYTES: 0 packed, Infinity copy); CPU
// time per call after 1 s of warm-up per session (V8 tiers wasm up on background threads), samples
// alternating, medians; the load average beside.
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { devKnobs } from '../../core/dev-knobs.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 9));
const SIZES = (process.argv[3] ?? '64x256,256x1024,512x1024,1024x1024,1024x4096').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const M = Number(process.argv[4] ?? 1);
const rand = seededRandom(20261203);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const knob = devKnobs;

function model(K: number, N: number, bits: number): Uint8Array {
  const nBlocks = Math.ceil(K / 32);
  const blob = (32 * bits) / 8;
  return encodeOnnxModel({
    nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: ['a', 'b', 's'], outputs: ['y'], attrs: { K, N, bits, block_size: 32 } }],
    inputs: [{ name: 'a', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      b: new Tensor('uint8', Uint8Array.from({ length: N * nBlocks * blob }, () => Math.floor(rand() * 256)), [N, nBlocks, blob]),
      s: new Tensor('float32', Float32Array.from({ length: N * nBlocks }, () => 0.01 + rand() * 0.02), [N * nBlocks]),
    },
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; M = ${M}; us per call (CPU), packed / f32 copy`);
for (const bits of [4, 8]) {
  for (const [K, N] of SIZES) {
    const bytes = model(K, N, bits);
    const sessions: InferenceSession[] = [];
    for (const k of [0, Infinity]) {
      knob.KILN_NBITS_F32_BYTES = k;
      sessions.push(await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] }));
    }
    delete knob.KILN_NBITS_F32_BYTES;
    const a = new Tensor('float32', uniform(rand, M * K, 1), [M, K]);
    const calls = Math.max(5, Math.round(2e6 / (K * N)));
    for (const s of sessions) {
      const t0 = performance.now();
      while (performance.now() - t0 < 1000) await s.run({ a });
    }
    const cpu: number[][] = [[], []];
    for (let n = 0; n < SAMPLES; n++) {
      for (const [i, s] of sessions.entries()) {
        const c0 = process.cpuUsage();
        for (let c = 0; c < calls; c++) await s.run({ a });
        const c = process.cpuUsage(c0);
        cpu[i]!.push((c.user + c.system) / calls);
      }
    }
    const [p, f] = cpu.map(median) as [number, number];
    console.log(`${bits}-bit ${K}x${N} (f32 W ${((K * N * 4) / 1024).toFixed(0)} KB): packed ${p.toFixed(1)}, copy ${f.toFixed(1)}, packed / copy ${(p / f).toFixed(2)}`);
    await Promise.all(sessions.map((s) => s.release()));
  }
}
console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
