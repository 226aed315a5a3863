// `node --import tsx bench/node/contrib-ops-bench.ts [samples]`: onnxruntime's fused contrib ops at
// BERT-base shapes (S=128, H=768, FFN 3072) and a RoPE step, on Kiln's wasm backend, Kiln's js fast
// path, Kiln's plain reference and onnxruntime-web's wasm EP (1 thread). Single-node models, x fed at run time.
// Medians of interleaved ~30 ms samples, in microseconds.
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { msPerCall } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 7));
const SAMPLE_MS = 30;
const SEED = 20261203;
const rand = seededRandom(SEED);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f32 = (dims: number[]): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 2), dims);
const MS = 'com.microsoft';

interface OpModel {
  readonly name: string;
  readonly node: WriterNode;
  readonly x: number[];
  readonly inits: Record<string, AnyTensor>;
  readonly opset?: number;
}

const S = 128, H = 768, F = 3072;
const OPS: OpModel[] = [
  { name: `SkipLayerNorm [1,${S},${H}]`, node: { opType: 'SkipLayerNormalization', domain: MS, inputs: ['x', 'skip', 'g', 'b', 'bias'], outputs: ['y'] }, x: [1, S, H], inits: { skip: f32([1, S, H]), g: f32([H]), b: f32([H]), bias: f32([H]) } },
  { name: `SkipSimplifiedLayerNorm [1,${S},${H}]`, node: { opType: 'SkipSimplifiedLayerNormalization', domain: MS, inputs: ['x', 'skip', 'g'], outputs: ['y'] }, x: [1, S, H], inits: { skip: f32([1, S, H]), g: f32([H]) } },
  { name: `RMSNormalization [1,${S},${H}]`, node: { opType: 'RMSNormalization', inputs: ['x', 'g'], outputs: ['y'] }, x: [1, S, H], inits: { g: f32([H]) }, opset: 23 },
  { name: `FastGelu [1,${S},${F}]+bias`, node: { opType: 'FastGelu', domain: MS, inputs: ['x', 'b'], outputs: ['y'] }, x: [1, S, F], inits: { b: f32([F]) } },
  { name: `BiasGelu [1,${S},${F}]`, node: { opType: 'BiasGelu', domain: MS, inputs: ['x', 'b'], outputs: ['y'] }, x: [1, S, F], inits: { b: f32([F]) } },
  { name: `QuickGelu [1,${S},${F}]`, node: { opType: 'QuickGelu', domain: MS, inputs: ['x'], outputs: ['y'] }, x: [1, S, F], inits: {} },
  {
    name: `RotaryEmbedding [1,${S},${H}] 12 heads`, node: { opType: 'RotaryEmbedding', domain: MS, inputs: ['x', 'pos', 'cos', 'sin'], outputs: ['y'] }, x: [1, S, H],
    inits: { pos: new Tensor('int64', BigInt64Array.from([0n]), [1]), cos: f32([S, 32]), sin: f32([S, 32]) },
  },
];

/** microseconds per call */
const sample = async (run: () => Promise<unknown>): Promise<number> => (await msPerCall(run, SAMPLE_MS)) * 1000;

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const load0 = loadavg()[0]!;
const rows: string[] = [];
for (const op of OPS) {
  const bytes = encodeOnnxModel({
    nodes: [op.node],
    inputs: [{ name: 'x', dtype: 'float32', dims: op.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: op.inits,
    opsets: { '': op.opset ?? 17, [MS]: 1 },
  });
  const x = f32(op.x);
  const wasm = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const js = await InferenceSession.create(bytes, { executionProviders: ['js'] });
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const o = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ox = { x: new ort.Tensor('float32', x.data, op.x) };
  const runs = [() => wasm.run({ x }), () => js.run({ x }), () => ref.run({ x }), () => o.run(ox)];
  for (const r of runs) for (let i = 0; i < 3; i++) await r();
  const t: number[][] = runs.map(() => []);
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) t[i]!.push(await sample(r));
  const [w, j, rf, ov] = t.map(median) as [number, number, number, number];
  const ran = wasm.lastPlacement?.steps.every((st) => st.implementation === 'wasm') ? '' : ' (wasm runs js)';
  rows.push(`| ${op.name}${ran} | ${w.toFixed(0)} | ${j.toFixed(0)} | ${rf.toFixed(0)} | ${ov.toFixed(0)} | ${(ov / w).toFixed(2)}x |`);
  await wasm.release();
  await js.release();
  await ref.release();
  await o.release();
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms, interleaved; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared); seed ${SEED}`);
console.log('| op | kiln wasm us | kiln js us | kiln reference us | ort wasm 1t us | ort / kiln wasm |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
