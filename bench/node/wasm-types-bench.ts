// `node --import tsx bench/node/wasm-types-bench.ts [samples] [before-tree]`: models where integer and
// bool tensors sit between float ops (a classifier ending in ArgMax, an embedding Gather ->
// LayerNorm, an attention mask built with Equal/Where, Conv -> MaxPool with Indices), on Kiln's wasm
// backend, onnxruntime-web's wasm EP (1 thread) and, when `before-tree` names a checkout of an
// earlier commit (its dist/wasm built, node_modules beside it), that commit's wasm backend: the same
// models before non-float tensors lived in the arena. Medians of interleaved ~30 ms samples, in us.
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { msPerCall } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 7));
const BEFORE = process.argv[3];
const SAMPLE_MS = 30;
const SEED = 20261203;
const rand = seededRandom(SEED);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f32 = (dims: number[]): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), 2), dims);
const i64 = (values: number[], dims: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(values, BigInt), dims);
const ids = (n: number, vocab: number): Tensor<'int64'> => i64(Array.from({ length: n }, (_, i) => (i < n - 16 ? 1 + Math.floor(rand() * (vocab - 1)) : 0)), [1, n]);
const node = (opType: string, inputs: string[], outputs: string[], attrs?: WriterNode['attrs']): WriterNode => ({ opType, inputs, outputs, ...(attrs ? { attrs } : {}) });

interface Model {
  readonly name: string;
  readonly nodes: WriterNode[];
  readonly feeds: Record<string, AnyTensor>;
  /** output names and their dtypes */
  readonly outputs: Record<string, 'float32' | 'int64'>;
  readonly inits: Record<string, AnyTensor>;
}

const V = 8000, S = 128, H = 256;
const MODELS: Model[] = [
  {
    name: 'classifier head: MatMul [8,512]x[512,1000] + bias -> ArgMax',
    nodes: [node('MatMul', ['x', 'w'], ['m']), node('Add', ['m', 'b'], ['logits']), node('ArgMax', ['logits'], ['y'], { axis: 1, keepdims: 0 })],
    feeds: { x: f32([8, 512]) }, outputs: { y: 'int64' }, inits: { w: f32([512, 1000]), b: f32([1000]) },
  },
  {
    name: `embedding: Gather ids [1,${S}] from [${V},${H}] + positions -> LayerNorm`,
    nodes: [node('Gather', ['table', 'ids'], ['e']), node('Add', ['e', 'pos'], ['h']), node('LayerNormalization', ['h', 'g', 'beta'], ['y'], { axis: -1 })],
    feeds: { ids: ids(S, V) }, outputs: { y: 'float32' }, inits: { table: f32([V, H]), pos: f32([1, S, H]), g: f32([H]), beta: f32([H]) },
  },
  {
    name: `attention mask: Equal(ids, 0) -> Where(-1e4, scores) -> Softmax [1,4,${S},${S}]`,
    nodes: [node('Equal', ['ids', 'pad'], ['m']), node('Unsqueeze', ['m', 'axes'], ['m4']), node('Where', ['m4', 'neg', 'x'], ['s']), node('Softmax', ['s'], ['y'], { axis: -1 })],
    feeds: { ids: ids(S, V), x: f32([1, 4, S, S]) }, outputs: { y: 'float32' }, inits: { pad: i64([0], []), axes: i64([1, 2], [2]), neg: new Tensor('float32', Float32Array.of(-1e4), []) },
  },
  {
    name: 'Conv 3x3 [1,16,56,56]->32 -> MaxPool 3x3 s2 with Indices',
    nodes: [node('Conv', ['x', 'w'], ['c'], { pads: [1, 1, 1, 1] }), node('MaxPool', ['c'], ['y', 'ind'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
    feeds: { x: f32([1, 16, 56, 56]) }, outputs: { y: 'float32', ind: 'int64' }, inits: { w: f32([32, 16, 3, 3]) },
  },
];

/** microseconds per call */
const sample = async (run: () => Promise<unknown>): Promise<number> => (await msPerCall(run, SAMPLE_MS)) * 1000;

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
type Session = { run(feeds: Record<string, AnyTensor>): Promise<unknown>; release(): Promise<void>; lastPlacement?: { steps: readonly { opType: string; implementation?: string }[]; arenaCopies?: number } | undefined };
type SessionClass = { create(bytes: Uint8Array, options: { executionProviders: string[] }): Promise<Session> };
const before = BEFORE ? ((await import(join(resolve(BEFORE), 'runtime', 'node.ts'))) as { InferenceSession: SessionClass }).InferenceSession : undefined;
const BeforeTensor = BEFORE ? ((await import(join(resolve(BEFORE), 'core', 'tensor.ts'))) as { Tensor: typeof Tensor }).Tensor : undefined;

const load0 = loadavg()[0]!;
const rows: string[] = [];
const where = (s: Session): string => (s.lastPlacement?.steps ?? []).map((p) => `${p.opType}:${p.implementation ?? '?'}`).join(' ');
for (const m of MODELS) {
  const bytes = encodeOnnxModel({
    nodes: m.nodes,
    inputs: Object.entries(m.feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: Object.entries(m.outputs).map(([name, dtype]) => ({ name, dtype })),
    initializers: m.inits,
  });
  const kiln = await InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const old = before ? await before.create(bytes, { executionProviders: ['wasm'] }) : undefined;
  const o = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const ortFeeds = Object.fromEntries(Object.entries(m.feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims)]));
  const oldFeeds = BeforeTensor ? Object.fromEntries(Object.entries(m.feeds).map(([k, t]) => [k, new BeforeTensor(t.type, t.data, t.dims) as AnyTensor])) : {};
  const runs: (() => Promise<unknown>)[] = [() => kiln.run(m.feeds), () => o.run(ortFeeds), ...(old ? [() => old.run(oldFeeds)] : [])];
  for (const r of runs) for (let i = 0; i < 3; i++) await r();
  console.log(`${m.name}\n  now:    ${where(kiln)} (copies ${kiln.lastPlacement?.arenaCopies})${old ? `\n  before: ${where(old)}` : ''}`);
  const t: number[][] = runs.map(() => []);
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runs.entries()) t[i]!.push(await sample(r));
  const [k, ov, b] = t.map(median) as [number, number, number | undefined];
  rows.push(`| ${m.name} | ${k.toFixed(0)} | ${b === undefined ? '-' : b.toFixed(0)} | ${ov.toFixed(0)} | ${(ov / k).toFixed(2)}x |${b === undefined ? '' : ` ${(b / k).toFixed(2)}x |`}`);
  await kiln.release();
  await old?.release();
  await o.release();
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms, interleaved; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared); seed ${SEED}`);
console.log('| model | kiln wasm us | kiln wasm before us | ort wasm 1t us | ort / kiln | before / kiln |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
