// `node --import tsx bench/node/wasm-overhead-bench.ts`: per-run overhead on a tiny float32 MLP
// (4-16-3: MatMul, Add, Relu, MatMul, Add, Softmax; the iris shape), where the arithmetic is
// ~300 FLOPs and a run is all fixed cost. Back-to-back runs (20000 per block after 2000 warm-up,
// median and minimum of 7 blocks), one runtime at a time, so each keeps its caches and JIT state:
// Kiln wasm, Kiln js, onnxruntime-web wasm on one thread. Reports the load average beside.
import { loadavg } from 'node:os';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

const SEED = 20261203;
const rand = seededRandom(SEED);
const f32 = (dims: number[]): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 1), dims);
const bytes = encodeOnnxModel({
  nodes: [
    { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
    { opType: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
    { opType: 'Relu', inputs: ['h1'], outputs: ['h2'] },
    { opType: 'MatMul', inputs: ['h2', 'w2'], outputs: ['o0'] },
    { opType: 'Add', inputs: ['o0', 'b2'], outputs: ['o1'] },
    { opType: 'Softmax', inputs: ['o1'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }],
  outputs: [{ name: 'y', dtype: 'float32', dims: [1, 3] }],
  initializers: { w1: f32([4, 16]), b1: f32([16]), w2: f32([16, 3]), b2: f32([3]) },
});
const x = f32([1, 4]);

async function perRun(run: () => Promise<unknown>): Promise<[number, number]> {
  const blocks: number[] = [];
  for (let b = 0; b < 7; b++) {
    for (let i = 0; i < 2000; i++) await run();
    const t0 = performance.now();
    for (let i = 0; i < 20000; i++) await run();
    blocks.push((performance.now() - t0) / 20); // microseconds per run
  }
  blocks.sort((a, b) => a - b);
  return [blocks[3]!, blocks[0]!];
}

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const load0 = loadavg()[0]!;
const wasm = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
const js = await InferenceSession.create(bytes, { executionProviders: ['js'] });
const o = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
const ox = { x: new ort.Tensor('float32', x.data, [1, 4]) };
const rows: [string, [number, number]][] = [
  ['kiln wasm', await perRun(() => wasm.run({ x }))],
  ['kiln js', await perRun(() => js.run({ x }))],
  ['ort wasm 1t', await perRun(() => o.run(ox))],
];
console.log(`f32 MLP 4-16-3, us per run (median / min of 7 blocks of 20000); load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared)`);
for (const [name, [med, min]] of rows) console.log(`| ${name} | ${med.toFixed(2)} | ${min.toFixed(2)} |`);
