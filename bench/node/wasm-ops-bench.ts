// `node --import tsx bench/node/wasm-ops-bench.ts [samples] [name filter]`: the memory-bound ops one at a time, at
// the shapes of bench/node/wasm-models-bench.ts's BERT-like block (S=128, H=256, 4 heads) and a
// small CNN, on Kiln's wasm backend, Kiln's js backend and onnxruntime-web's wasm EP (1 thread).
// Each model is a single node with its input fed at run time, so a run also copies the input in
// and the output out on every runtime. The chains (decomposed HardSwish, an SE gate, exact GELU) are
// small graphs that Kiln's wasm backend runs as one fused pass. Medians of interleaved ~30 ms samples, in microseconds.
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

interface OpModel {
  readonly name: string;
  /** one node, or a chain: the graph reads x and writes y */
  readonly node: WriterNode | readonly WriterNode[];
  readonly x: number[];
  readonly inits?: Record<string, AnyTensor>;
}

const S = 128, H = 256, F = 1024;
const n = (opType: string, inputs: string[], output: string): WriterNode => ({ opType, inputs, outputs: [output] });
const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
/** x * clip(x + 3, 0, 6) / 6 as exporters write HardSwish before opset 14 (PaddleOCR's MobileNetV3) */
const hardSwish = (x: string, y: string): WriterNode[] => [n('Add', [x, 'three'], `${y}_a`), n('Clip', [`${y}_a`, 'zero', 'six'], `${y}_c`), n('Div', [`${y}_c`, 'six'], `${y}_d`), n('Mul', [x, `${y}_d`], y)];
const hsConsts = { three: scalar(3), zero: scalar(0), six: scalar(6) };
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
  { name: `Log [${S},${F}]`, node: { opType: 'Log', inputs: ['x'], outputs: ['y'] }, x: [S, F] },
  { name: `Pow 2 [${S},${F}]`, node: { opType: 'Pow', inputs: ['x', 'e'], outputs: ['y'] }, x: [S, F], inits: { e: new Tensor('float32', Float32Array.of(2), []) } },
  { name: 'Resize nearest 2x [1,32,40,40]', node: { opType: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], attrs: { mode: 'nearest' } }, x: [1, 32, 40, 40], inits: { s: new Tensor('float32', Float32Array.of(1, 1, 2, 2), [4]) } },
  { name: 'Resize linear 2x [1,32,40,40]', node: { opType: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], attrs: { mode: 'linear' } }, x: [1, 32, 40, 40], inits: { s: new Tensor('float32', Float32Array.of(1, 1, 2, 2), [4]) } },
  { name: 'ReduceMean channel axis [1,64,56,56]', node: { opType: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [1] } }, x: [1, 64, 56, 56] },
  { name: 'Softmax axis 1 [1,16,64,64]', node: { opType: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }, x: [1, 16, 64, 64] },
  { name: 'MaxPool 1-D k3 s2 [1,64,1001]', node: { opType: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3], strides: [2] } }, x: [1, 64, 1001] },
  { name: 'chain: HardSwish as Add,Clip,Div,Mul [1,32,56,56]', node: hardSwish('x', 'y'), x: [1, 32, 56, 56], inits: hsConsts },
  {
    name: 'chain: SE gate x*g[C,1,1] then HardSwish [1,48,40,40]',
    node: [n('Mul', ['x', 'g'], 'm'), ...hardSwish('m', 'y')],
    x: [1, 48, 40, 40],
    inits: { ...hsConsts, g: f32([48, 1, 1]) },
  },
  {
    name: `chain: GELU as Div,Erf,Add,Mul,Mul [${S},${F}]`,
    node: [n('Div', ['x', 'r2'], 'd'), n('Erf', ['d'], 'e'), n('Add', ['e', 'one'], 'f'), n('Mul', ['x', 'f'], 'g'), n('Mul', ['g', 'half'], 'y')],
    x: [S, F],
    inits: { r2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) },
  },
];
const FILTER = process.argv[3];

/** microseconds per call */
const sample = async (run: () => Promise<unknown>): Promise<number> => (await msPerCall(run, SAMPLE_MS)) * 1000;

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const load0 = loadavg()[0]!;
const rows: string[] = [];
for (const op of OPS.filter((o) => FILTER === undefined || o.name.includes(FILTER))) {
  const bytes = encodeOnnxModel({
    nodes: Array.isArray(op.node) ? op.node : [op.node],
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
