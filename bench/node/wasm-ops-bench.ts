// `node --import tsx bench/node/wasm-ops-bench.ts [samples]`: the memory-bound ops one at a time, at
// the shapes of bench/node/wasm-models-bench.ts's BERT-like block (S=128, H=256, 4 heads) and a
// small CNN, on Kiln's wasm backend, Kiln's js backend and onnxruntime-web's wasm EP (1 thread).
// Each model is a single node with its input fed at run time, so a run also copies the input in
// and the output out on every runtime. Medians of interleaved ~30 ms samples, in microseconds.
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 7));
const SAMPLE_MS = 30;
const SEED = 20261203;
const rand = seededRandom(SEED);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f32 = (dims: number[]): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 2), dims);

interface OpModel {
  readonly name: string;
  readonly node: WriterNode;
  readonly x: number[];
  readonly inits?: Record<string, AnyTensor>;
}

const S = 128, H = 256, F = 1024;
const OPS: OpModel[] = [
  { name: `Erf [${S},${F}]`, node: { opType: 'Erf', inputs: ['x'], outputs: ['y'] }, x: [S, F] },
  { name: `Sigmoid [${S},${F}]`, node: { opType: 'Sigmoid', inputs: ['x'], outputs: ['y'] }, x: [S, F] },
  { name: `Relu [${S},${F}]`, node: { opType: 'Relu', inputs: ['x'], outputs: ['y'] }, x: [S, F] },
  { name: `Add row bias [${S},${F}]+[${F}]`, node: { opType: 'Add', inputs: ['x', 'b'], outputs: ['y'] }, x: [S, F], inits: { b: f32([F]) } },
  { name: `Mul scalar [${S},${F}]`, node: { opType: 'Mul', inputs: ['x', 'b'], outputs: ['y'] }, x: [S, F], inits: { b: f32([]) } },
  { name: `Add per-channel [1,32,56,56]+[32,1,1]`, node: { opType: 'Add', inputs: ['x', 'b'], outputs: ['y'] }, x: [1, 32, 56, 56], inits: { b: f32([32, 1, 1]) } },
  { name: 'MaxPool 2x2 s2 [1,32,56,56]', node: { opType: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }, x: [1, 32, 56, 56] },
  { name: 'AveragePool 3x3 s1 pad 1 [1,32,56,56]', node: { opType: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }, x: [1, 32, 56, 56] },
  { name: 'GlobalAveragePool [1,256,14,14]', node: { opType: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }, x: [1, 256, 14, 14] },
  { name: `Softmax [1,4,${S},${S}]`, node: { opType: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }, x: [1, 4, S, S] },
  { name: `LayerNorm [1,${S},${H}]`, node: { opType: 'LayerNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { axis: -1 } }, x: [1, S, H], inits: { s: f32([H]), b: f32([H]) } },
  { name: `Transpose [1,${S},4,64] perm 0213`, node: { opType: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 2, 1, 3] } }, x: [1, S, 4, 64] },
  { name: `Transpose [1,${S},4,64] perm 0231`, node: { opType: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } }, x: [1, S, 4, 64] },
];

async function sample(run: () => Promise<unknown>): Promise<number> {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < SAMPLE_MS) {
    await run();
    calls++;
    t = performance.now();
  }
  return ((t - t0) * 1000) / calls;
}

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const load0 = loadavg()[0]!;
const rows: string[] = [];
for (const op of OPS) {
  const bytes = encodeOnnxModel({
    nodes: [op.node],
    inputs: [{ name: 'x', dtype: 'float32', dims: op.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: op.inits ?? {},
  });
  const x = f32(op.x);
  const wasm = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const js = await InferenceSession.create(bytes, { executionProviders: ['js'] });
  const o = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ox = { x: new ort.Tensor('float32', x.data, op.x) };
  const runs = [() => wasm.run({ x }), () => js.run({ x }), () => o.run(ox)];
  for (const r of runs) for (let i = 0; i < 3; i++) await r();
  const ran = wasm.lastPlacement?.steps.every((s) => s.implementation === 'wasm') ? '' : ' (wasm declined)';
  const t: number[][] = runs.map(() => []);
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) t[i]!.push(await sample(r));
  const [w, j, ov] = t.map(median) as [number, number, number];
  rows.push(`| ${op.name}${ran} | ${w.toFixed(0)} | ${j.toFixed(0)} | ${ov.toFixed(0)} | ${(ov / w).toFixed(2)}x |`);
  await wasm.release();
  await js.release();
  await o.release();
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms, interleaved; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared); seed ${SEED}`);
console.log('| op | kiln wasm us | kiln js us | ort wasm 1t us | ort / kiln wasm |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
