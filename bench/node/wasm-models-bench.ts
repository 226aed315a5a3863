// `node --import tsx bench/node/wasm-models-bench.ts [samples] [name filter]`: whole models on Kiln's wasm
// backend, Kiln's js backend and onnxruntime-web's wasm EP on one thread, same bytes, same inputs.
// Models: the trainer's demo models (demo/models/*.onnx, int8/int4 QDQ), a float32 iris-sized MLP
// (4-16-3, Relu, Softmax: per-run overhead), and a BERT-like encoder block written here with the
// ONNX writer (LayerNormalization, MatMul + Add, Reshape/Transpose heads, Softmax attention, Erf
// GELU, residuals), and a PaddleOCR-like MobileNetV3 block (Conv, HardSwish written as
// Add/Clip/Div/Mul as exporters before opset 14 do, depthwise Conv, an SE gate, a residual, a
// nearest 2x Resize as in the detector's FPN). Each sample runs one runner until ~30 ms of wall time pass; samples of the
// three runners are interleaved so machine noise hits all of them; the table shows medians (ms per
// run) and the load average. Everything runs on this thread.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { msPerCall } from './time-per-call.ts';
import { bertBlock } from './bert-block.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 9));
const SAMPLE_MS = 30;
const SEED = 20261203;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rand = seededRandom(SEED);
const f32 = (dims: number[], scale = 1): Tensor<'float32'> => new Tensor('float32', uniform(rand, dims.reduce((a, d) => a * d, 1), scale), dims);

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function mlpF32(): Model {
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
  return { name: 'iris-sized MLP f32 (4-16-3)', bytes };
}

/** One encoder layer: seq S, hidden H, `heads` heads, FFN 4H; weights scaled so activations stay O(1). */
/** MobileNetV3-style block as PaddleOCR exports it, then the FPN's nearest 2x upsample. */
function paddleBlock(C: number, HW: number): Model {
  const E = 2 * C;
  const w = (o: number, i: number, k: number): Tensor<'float32'> => f32([o, i, k, k], 1 / Math.sqrt(i * k * k));
  const nodes: WriterNode[] = [];
  const n = (opType: string, inputs: string[], outputs: string[], attrs?: WriterNode['attrs']): void => {
    nodes.push({ opType, inputs, outputs, ...(attrs ? { attrs } : {}) });
  };
  const hardSwish = (x: string, y: string): void => {
    n('Add', [x, 'three'], [`${y}_a`]);
    n('Clip', [`${y}_a`, 'zero', 'six'], [`${y}_c`]);
    n('Div', [`${y}_c`, 'six'], [`${y}_d`]);
    n('Mul', [x, `${y}_d`], [y]);
  };
  n('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [1, 1] });
  hardSwish('c1', 'h1');
  n('Conv', ['h1', 'wd', 'bd'], ['c2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: E });
  hardSwish('c2', 'h2');
  n('GlobalAveragePool', ['h2'], ['se0']);
  n('Conv', ['se0', 'ws1', 'bs1'], ['se1'], { kernel_shape: [1, 1] });
  n('Relu', ['se1'], ['se2']);
  n('Conv', ['se2', 'ws2', 'bs2'], ['se3'], { kernel_shape: [1, 1] });
  n('HardSigmoid', ['se3'], ['se4'], { alpha: 0.2, beta: 0.5 });
  n('Mul', ['h2', 'se4'], ['g']);
  n('Conv', ['g', 'w3', 'b3'], ['c3'], { kernel_shape: [1, 1] });
  n('Add', ['c3', 'x'], ['r']);
  n('Resize', ['r', '', 'scales'], ['y'], { mode: 'nearest' });
  const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', new Float32Array([v]), []);
  const bytes = encodeOnnxModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, C, HW, HW] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1, C, 2 * HW, 2 * HW] }],
    initializers: {
      w1: w(E, C, 1), b1: f32([E]), wd: w(E, 1, 3), bd: f32([E]), ws1: w(E / 4, E, 1), bs1: f32([E / 4]), ws2: w(E, E / 4, 1), bs2: f32([E]),
      w3: w(C, E, 1), b3: f32([C]), three: scalar(3), zero: scalar(0), six: scalar(6), scales: new Tensor('float32', Float32Array.of(1, 1, 2, 2), [4]),
    },
  });
  return { name: `PaddleOCR-like block f32 (C=${C}, ${HW}x${HW}, HardSwish as 4 ops, SE, Resize 2x)`, bytes };
}

const demo = (file: string): Model => ({ name: `demo ${file}`, bytes: new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', file))) });

type Run = () => Promise<Float32Array>;
interface Runner {
  readonly name: string;
  readonly run: Run;
  readonly note?: string;
}

async function kilnRunner(name: string, provider: 'wasm' | 'js', m: Model, feeds: Record<string, Tensor<'float32'>>): Promise<Runner> {
  const s = await InferenceSession.create(m.bytes, { executionProviders: [provider] });
  const out = s.outputNames[0]!;
  const run: Run = async () => (await s.run(feeds))[out]!.data as Float32Array;
  await run();
  const steps = s.lastPlacement?.steps ?? [];
  const wasm = steps.filter((st) => st.implementation === 'wasm').length;
  return { name, run, note: provider === 'wasm' ? `${wasm}/${steps.length} steps in wasm; js: ${[...new Set(steps.filter((st) => st.implementation !== 'wasm').map((st) => st.opType))].join(' ') || '-'}` : '' };
}

async function ortRunner(ort: OrtModule, m: Model, feeds: Record<string, Tensor<'float32'>>): Promise<Runner> {
  const s = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'] });
  const of = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, [...t.dims])]));
  const run: Run = async () => (await s.run(of))[s.outputNames[0]!]!.data as Float32Array;
  return { name: 'ort-wasm-1t', run };
}

const sample = (run: Run): Promise<number> => msPerCall(run, SAMPLE_MS);

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;

const FILTER = process.argv[3];
const models: Model[] = [mlpF32(), demo('iris-mlp-int8.onnx'), demo('mnist-cnn-int8.onnx'), bertBlock(64, 256, 4, f32), bertBlock(128, 256, 4, f32), paddleBlock(16, 40), paddleBlock(24, 80)].filter((m) => FILTER === undefined || m.name.includes(FILTER));
const rows: string[] = [];
const notes: string[] = [];
const load0 = loadavg()[0]!;
for (const m of models) {
  const probe = await InferenceSession.create(m.bytes, { executionProviders: ['js'] });
  const meta = probe.inputMetadata[0]!;
  const feeds = { [meta.name]: f32(meta.shape.map((d) => (typeof d === 'number' ? d : 1)), 2) };
  await probe.release();
  const runners = [await kilnRunner('kiln-wasm', 'wasm', m, feeds), await kilnRunner('kiln-js', 'js', m, feeds), await ortRunner(ort, m, feeds)];
  const ref = await runners[2]!.run();
  const diffs = await Promise.all(runners.slice(0, 2).map(async (r) => (await r.run()).reduce((mx, v, i) => Math.max(mx, Math.abs(v - ref[i]!)), 0)));
  for (const r of runners) for (let i = 0; i < 3; i++) await r.run(); // warm-up
  const times: number[][] = runners.map(() => []);
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runners.entries()) times[i]!.push(await sample(r.run));
  const [w, j, o] = times.map(median) as [number, number, number];
  rows.push(`| ${m.name} | ${w.toFixed(3)} | ${j.toFixed(3)} | ${o.toFixed(3)} | ${(o / w).toFixed(2)}x | ${diffs.map((d) => d.toExponential(1)).join(' / ')} |`);
  notes.push(`${m.name}: ${runners[0]!.note}`);
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms per runner, interleaved; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared); seed ${SEED}`);
console.log('| model | kiln wasm ms | kiln js ms | ort wasm 1t ms | ort / kiln wasm | max |diff| vs ort (wasm / js) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
for (const n of notes) console.log(n);
