// `node --import tsx bench/node/wasm-int8-bench.ts [samples]`: quantized models and their float
// twins on Kiln's wasm backend and onnxruntime-web's wasm EP (1 thread), same bytes, same inputs.
// Models: the QDQ MobileNetV3-like network of test/helpers/mobilenet-qdq.ts (int8 weights, uint8
// activations, calibrated on onnxruntime-web) beside its float model; the demo MNIST CNN int8 QDQ
// (demo/models; its float twin is not shipped); PaddleOCR's direction classifier (npm) and its int8
// QDQ twin written by `kiln compress`; a QDQ MatMul 256x512x512 and its float twin; MatMulNBits int4 (block 32) beside MatMul f32 at
// 1 x 4096 x 4096. Each sample runs one runner for ~30 ms; samples of all runners of a model are
// interleaved; the table shows medians (ms per run) and the load average (2 shared cores).
// KILN_BENCH_2T=1 adds Kiln wasm on 2 threads.
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { qdqMatMulModel } from '../../test/helpers/qdq-matmul.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';
import { msPerCall } from './time-per-call.ts';

const SAMPLES = Math.max(3, Number(process.argv[2] ?? 7));
const SAMPLE_MS = 30;
const SEED = 20261203;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rand = seededRandom(SEED);

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dims: readonly number[];
}

type Run = () => Promise<Float32Array>;
interface Runner {
  readonly name: string;
  readonly run: Run;
  readonly note: string;
}

async function kilnRunner(m: Model, x: Float32Array, numThreads = 1): Promise<Runner & { inputName: string }> {
  const s = await InferenceSession.create(m.bytes, { executionProviders: [{ name: 'wasm', numThreads }] });
  const feeds = { [s.inputNames[0]!]: new Tensor('float32', x, [...m.dims]) };
  const run: Run = async () => (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
  await run();
  const steps = s.lastPlacement?.steps ?? [];
  const js = [...new Set(steps.filter((st) => st.implementation !== 'wasm').map((st) => st.opType))];
  return { name: `kiln ${m.name}`, inputName: s.inputNames[0]!, run, note: `${m.name}: ${steps.length - steps.filter((st) => st.implementation !== 'wasm').length}/${steps.length} steps in wasm; js: ${js.join(' ') || '-'}` };
}

async function ortRunner(ort: OrtModule, m: Model, x: Float32Array, inputName: string): Promise<Runner> {
  const s = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'] });
  const feeds = { [inputName]: new ort.Tensor('float32', x, [...m.dims]) };
  const run: Run = async () => (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
  return { name: `ort ${m.name}`, run, note: '' };
}

const sample = (run: Run): Promise<number> => msPerCall(run, SAMPLE_MS);

/** y = x W with W int4 (MatMulNBits, block 32, one f32 scale per block, no zero points) or the same W in f32. */
function nbitsPair(K: number, N: number): [Model, Model] {
  const block = 32;
  const blocks = K / block;
  const q = new Uint8Array(N * blocks * (block / 2));
  for (let i = 0; i < q.length; i++) q[i] = Math.floor(rand() * 256);
  const scales = Float32Array.from({ length: N * blocks }, () => 0.01 + rand() * 0.01);
  const w = new Float32Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const byte = q[(n * blocks + Math.floor(k / block)) * (block / 2) + Math.floor((k % block) / 2)]!;
    w[k * N + n] = ((k % 2 === 0 ? byte & 15 : byte >> 4) - 8) * scales[n * blocks + Math.floor(k / block)]!;
  }
  const nbits = encodeOnnxModel({
    nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'q', 's'], outputs: ['y'], attrs: { K, N, bits: 4, block_size: block } }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { q: new Tensor('uint8', q, [N, blocks, block / 2]), s: new Tensor('float32', scales, [N * blocks]) },
    opsets: { '': 17, 'com.microsoft': 1 },
  });
  const f32 = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: new Tensor('float32', w, [K, N]) },
  });
  return [{ name: `MatMul f32 1x${K}x${N}`, bytes: f32, dims: [1, K] }, { name: `MatMulNBits int4 1x${K}x${N}`, bytes: nbits, dims: [1, K] }];
}

/** MatMul f32 (x fed, W constant) and its QDQ twin (uint8 x, int8 per-column W, uint8 y), which both runtimes lower to QLinearMatMul. */
function matmulPair(M: number, K: number, N: number): [Model, Model] {
  const w = Float32Array.from({ length: K * N }, () => (rand() * 2 - 1) / Math.sqrt(K));
  const f32 = encodeOnnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { w: new Tensor('float32', w, [K, N]) },
  });
  const qdq = qdqMatMulModel(w, M, K, N, { x: [2 / 255, 128], y: [8 / 255, 128] });
  return [{ name: `MatMul f32 ${M}x${K}x${N}`, bytes: f32, dims: [M, K] }, { name: `MatMul int8 QDQ ${M}x${K}x${N}`, bytes: qdq, dims: [M, K] }];
}

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;

const MOBILENET_SEED = 5;
const mobile = await buildParityModel(MOBILENET_SEED);
const groups: Model[][] = [
  [
    { name: 'MobileNetV3-like f32', bytes: floatModel(buildMobileNet(MOBILENET_SEED), false), dims: MOBILENET_INPUT },
    { name: 'MobileNetV3-like int8 QDQ', bytes: mobile.qdq, dims: MOBILENET_INPUT },
  ],
  [{ name: 'demo MNIST CNN int8 QDQ', bytes: new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', 'mnist-cnn-int8.onnx'))), dims: [1, 1, 28, 28] }],
  matmulPair(256, 512, 512),
  nbitsPair(4096, 4096),
];
/** PaddleOCR's direction classifier (float, from npm) and its int8 QDQ twin written by `kiln compress` (minmax calibration on one seeded input). */
async function paddleClsPair(): Promise<[Model, Model]> {
  const dims = [1, 3, 48, 192];
  const file = paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  await compressModel({
    input: file, bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'),
    samples: 1, sensitivitySamples: 0, freeDim: dims[3]!, commandLine: 'bench', random: rand,
  });
  return [
    { name: 'PaddleOCR cls f32', bytes: new Uint8Array(readFileSync(file)), dims },
    { name: 'PaddleOCR cls int8 QDQ', bytes: new Uint8Array(readFileSync(join(dir, 'm.onnx'))), dims },
  ];
}
// KILN_BENCH_ONLY: a regular expression over model names (e.g. 'MobileNet|PaddleOCR')
const only = process.env.KILN_BENCH_ONLY ? new RegExp(process.env.KILN_BENCH_ONLY) : undefined;
// KILN_BENCH_2T=1: Kiln wasm on 2 threads too (a third runner per model, interleaved with the others)
const TWO = process.env.KILN_BENCH_2T === '1';
const PER = TWO ? 3 : 2;
if (!only || only.test('PaddleOCR cls')) groups.splice(1, 0, await paddleClsPair());

const load0 = loadavg()[0]!;
const rows: string[] = [];
const ratios: string[] = [];
const notes: string[] = [];
for (const group of groups) {
  if (only && !group.some((m) => only.test(m.name))) continue;
  const runners: Runner[] = [];
  const diffs: string[] = [];
  for (const m of group) {
    const x = uniform(rand, m.dims.reduce((a, d) => a * d, 1), 1);
    const k = await kilnRunner(m, x);
    const o = await ortRunner(ort, m, x, k.inputName);
    const [a, b] = [await k.run(), await o.run()];
    diffs.push(a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[i]!)), 0).toExponential(1));
    runners.push(k, o);
    if (TWO) runners.push(await kilnRunner(m, x, 2));
    notes.push(k.note);
  }
  for (const r of runners) for (let i = 0; i < 3; i++) await r.run(); // warm-up
  const times: number[][] = runners.map(() => []);
  for (let s = 0; s < SAMPLES; s++) for (const [i, r] of runners.entries()) times[i]!.push(await sample(r.run));
  group.forEach((m, i) => {
    const [kiln, o] = [median(times[PER * i]!), median(times[PER * i + 1]!)];
    const two = TWO ? ` ${median(times[PER * i + 2]!).toFixed(3)} | ${(o / median(times[PER * i + 2]!)).toFixed(2)}x |` : '';
    rows.push(`| ${m.name} | ${kiln.toFixed(3)} | ${o.toFixed(3)} | ${(o / kiln).toFixed(2)}x |${two} ${diffs[i]} |`);
  });
  // a float model and its quantized twin in one group: Kiln's int8 / f32 time, from the same interleaved samples
  if (group.length === 2 && /f32/.test(group[0]!.name)) {
    ratios.push(`${group[1]!.name} / ${group[0]!.name}, Kiln wasm: ${(median(times[PER]!) / median(times[0]!)).toFixed(2)}${TWO ? `; 2 threads: ${(median(times[PER + 2]!) / median(times[2]!)).toFixed(2)}` : ''}`);
  }
}
console.log(`samples ${SAMPLES} x ~${SAMPLE_MS} ms per runner, interleaved per model group; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (2 cores shared); seed ${SEED}`);
console.log(`| model | kiln wasm 1t ms | ort wasm 1t ms | ort / kiln |${TWO ? ' kiln wasm 2t ms | ort / kiln 2t |' : ''} max |diff| vs ort |`);
console.log(`|---|---|---|---|${TWO ? '---|---|' : ''}---|`);
for (const r of rows) console.log(r);
for (const r of ratios) console.log(r);
for (const n of notes) console.log(n);
