// `node --import tsx bench/node/onnx-cold-start-bench.ts [MB/s] [filter]`: cold start of ONNX models
// from an http URL served at a fixed rate (default 8 MB/s, bench/node/paced-server.ts): the time
// until InferenceSession.create resolves, over the paced download alone of the same file, with the
// model decoded while it streams (runtime/format/onnx/onnx-stream.ts: backend started at the first
// node, each weight uploaded when complete) and with the stream reader stopped at its first byte
// (the whole-buffer path every ONNX load took before), and streamed from a URL that answers Range
// requests, so the shapes are read ahead (onnx-early.ts: VARIANTS=whole,streamed,early), and that with
// freeDimensionOverrides fixing the symbolic input dims (variant 'fixed'; the run dims below). Besides
// create(), "ready" = create + the first run at those dims (where a symbolic model plans and compiles
// when it has no overrides). Models: PaddleOCR v4 det, v4 rec, v2 cls,
// float and int8 QDQ (`kiln compress --onnx-out`, made once into $TMPDIR/kiln-onnx-cold-bench), the
// bench page's small BERT encoder, and kiln-load-bench's 16 x 512x512 MatMul chain. Backends: webgpu
// (Dawn; SwiftShader without a GPU) and wasm (1 thread). Medians of RUNS (default 3); in each round
// every variant of a model runs back to back, so load from other processes hits them alike.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { OnnxStreamReader } from '../../runtime/format/onnx/onnx-stream.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { WebGpuBackend } from '../../runtime/backends/webgpu/webgpu-backend.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { BERT_SMALL, encoderWorkload } from '../page/transformer.ts';
import { seededRandom } from '../page/seeded.ts';
import { throttledServer } from './paced-server.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= '/tmp';

const rate = Number(process.argv[2] ?? 8) * 1e6;
const filter = process.argv[3];
const runs = Number(process.env.RUNS ?? 3);
const backends = (process.env.BACKENDS ?? 'webgpu,wasm').split(',') as ('webgpu' | 'wasm')[];
/** whole: read after the last byte; streamed: decoded while it streams; early: + shapes by Range requests; fixed: early + freeDimensionOverrides */
const VARIANTS = (process.env.VARIANTS ?? 'whole,streamed,early,fixed').split(',') as ('whole' | 'streamed' | 'early' | 'fixed')[];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function matmulChain(layers = 16, n = 512): Uint8Array {
  const rand = seededRandom(14);
  const initializers: Record<string, AnyTensor> = {};
  const nodes: WriterModel['nodes'][number][] = [];
  let x = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = new Tensor('float32', Float32Array.from({ length: n * n }, () => (rand() * 2 - 1) / n), [n, n]);
    nodes.push({ opType: 'MatMul', inputs: [x, `w${i}`], outputs: [`h${i}`] });
    x = `h${i}`;
  }
  nodes.push({ opType: 'Relu', inputs: [x], outputs: ['y'] });
  return encodeOnnxModel({ nodes, initializers, inputs: [{ name: 'x', dtype: 'float32', dims: [1, n] }], outputs: [{ name: 'y', dtype: 'float32' }] });
}

const OCR: { key: string; file: string; freeDim: number; overrides: Record<string, number> }[] = [
  { key: 'det', file: 'ch_PP-OCRv4_det_infer.onnx', freeDim: 64, overrides: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 320, 'p2o.DynamicDimension.2': 320 } },
  { key: 'rec', file: 'ch_PP-OCRv4_rec_infer.onnx', freeDim: 320, overrides: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 320 } },
  { key: 'cls', file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', freeDim: 192, overrides: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 } },
];
/** The int8 QDQ ONNX of a PaddleOCR model, made once (calibration takes a while on a busy machine). */
async function int8Of(file: string, freeDim: number): Promise<Uint8Array> {
  const dir = join(tmpdir(), 'kiln-onnx-cold-bench');
  mkdirSync(dir, { recursive: true });
  const onnxOut = join(dir, file.replace(/\.onnx$/, '.int8.onnx'));
  if (!existsSync(onnxOut)) {
    await compressModel({
      input: paddleOcrModel(file), bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: onnxOut.replace(/\.onnx$/, '.kiln'), onnxOut,
      samples: 1, sensitivitySamples: 0, freeDim, commandLine: 'bench', random: seededRandom(20261203),
    });
  }
  return new Uint8Array(readFileSync(onnxOut));
}

/** name, bytes, and the freeDimensionOverrides of the 'fixed' variant (the run dims of every variant) */
const models: [string, Uint8Array, Record<string, number>][] = [];
/** filter: substrings separated by commas ('ocr-det f32,bert') */
const want = (name: string): boolean => filter === undefined || filter.split(',').some((f) => name.includes(f));
for (const m of OCR) {
  if (want(`ocr-${m.key} f32`)) models.push([`ocr-${m.key} f32`, new Uint8Array(readFileSync(paddleOcrModel(m.file))), m.overrides]);
  if (want(`ocr-${m.key} int8`)) models.push([`ocr-${m.key} int8`, await int8Of(m.file, m.freeDim), m.overrides]);
}
const bert = encoderWorkload(BERT_SMALL);
if (want('bert') && 'bytes' in bert.onnx) models.push(['bert-small f32', bert.onnx.bytes, { batch: 1 }]);
if (want('matmul')) models.push(['matmul-chain f32', matmulChain(), {}]);

// The whole-buffer path: the stream reader gives up at its first byte (reason below), so the model is
// read after the last byte, and nothing starts during the download, as every ONNX load did before.
const proto = OnnxStreamReader.prototype;
const advance = proto['advance'];
const wholeBuffer = function (this: OnnxStreamReader): void {
  this['stopped'] = 'bench: whole-buffer path';
};

// What happens after the last byte: its time (the reader's end()), the WebGPU prepare (pipelines
// waited for, weights not yet uploaded, bind groups) and create()'s end; then one run where every
// input dim is fixed (the first run's own cost).
let lastByte = 0;
let prepareMs = 0;
const end = proto.end;
proto.end = function (this: OnnxStreamReader) {
  lastByte = performance.now();
  return end.call(this);
};
const prepare = WebGpuBackend.prototype.prepare;
WebGpuBackend.prototype.prepare = async function (this: WebGpuBackend, plan) {
  const t = performance.now();
  try {
    return await prepare.call(this, plan);
  } finally {
    prepareMs += performance.now() - t;
  }
};

const files = Object.fromEntries(models.map(([, bytes], i) => [`/${i}.onnx`, bytes]));
const server = await throttledServer(files, rate);
const samples = new Map<string, number[]>();
let warm = false;
const record = (key: string, ms: number): void => void (warm && samples.set(key, [...(samples.get(key) ?? []), ms]));
try {
  for (let round = -1; round < runs; round++) { // round -1 warms up (module loading, the first device), unrecorded
    warm = round >= 0;
    for (const [i, [name, , overrides]] of models.entries()) {
      const url = `${server.url}/${i}.onnx`;
      let t = performance.now();
      await (await fetch(url)).arrayBuffer();
      record(`${name}|download`, performance.now() - t);
      for (const backend of backends) {
        const ep = backend === 'wasm' ? { name: 'wasm' as const, numThreads: 1 } : 'webgpu' as const;
        for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
          proto['advance'] = variant === 'whole' ? wholeBuffer : advance;
          prepareMs = 0;
          t = performance.now();
          const ranged = variant === 'early' || variant === 'fixed';
          const s = await InferenceSession.create(ranged ? `${server.url}/r/${i}.onnx` : url, { executionProviders: [ep], ...(variant === 'fixed' ? { freeDimensionOverrides: overrides } : {}) });
          const created = performance.now();
          record(`${name}|${backend}|${variant}`, created - t);
          record(`${name}|${backend}|${variant}|after last byte`, created - lastByte);
          if (backend === 'webgpu') record(`${name}|${backend}|${variant}|prepare`, prepareMs);
          // symbolic dims take the overrides' sizes, so every variant's first run has the same dims
          const runDims = s.inputMetadata.map((m) => m.shape.map((d) => (typeof d === 'number' ? d : overrides[d] ?? -1)));
          if (s.inputMetadata.every((m, k) => m.type === 'float32' && runDims[k]!.every((d) => d >= 0))) {
            const feeds = Object.fromEntries(s.inputMetadata.map((m, k) => [m.name, new Tensor('float32', new Float32Array(runDims[k]!.reduce((a, b) => a * b, 1)), runDims[k]!)]));
            const r = performance.now();
            await s.run(feeds);
            record(`${name}|${backend}|${variant}|first run`, performance.now() - r);
            record(`${name}|${backend}|${variant}|ready`, performance.now() - t);
          }
          if ((variant === 'early' || variant === 'fixed') && s.pipelineCompiles) record(`${name}|${backend}|${variant}|pipelines`, s.pipelineCompiles.ahead);
          await s.release();
        }
        proto['advance'] = advance;
      }
    }
  }
} finally {
  proto['advance'] = advance;
  proto.end = end;
  WebGpuBackend.prototype.prepare = prepare;
  server.close();
}

console.log(`cold start of ONNX models from http at ${rate / 1e6} MB/s: InferenceSession.create / the paced download alone (medians of ${runs})`);
console.log('| model | MB | download ms | ' + backends.map((b) => VARIANTS.map((v) => `${b} ${v}`).join(' | ')).join(' | ') + ' |');
console.log('|---|---|---|' + backends.map(() => VARIANTS.map(() => '---|').join('')).join(''));
for (const [name, bytes] of models) {
  const download = median(samples.get(`${name}|download`)!);
  const cell = (key: string): string => {
    const ms = median(samples.get(`${name}|${key}`)!);
    return `${ms.toFixed(0)} ms = ${(ms / download).toFixed(2)}x`;
  };
  console.log(`| ${name} | ${(bytes.length / 1e6).toFixed(2)} | ${download.toFixed(0)} | ${backends.map((b) => VARIANTS.map((v) => cell(`${b}|${v}`)).join(' | ')).join(' | ')} |`);
}
console.log('\nready = create + the first run at the overrides\' dims, over the download alone:');
console.log('| model | ' + backends.map((b) => VARIANTS.map((v) => `${b} ${v}`).join(' | ')).join(' | ') + ' |');
console.log('|---|' + backends.map(() => VARIANTS.map(() => '---|').join('')).join(''));
for (const [name] of models) {
  const download = median(samples.get(`${name}|download`)!);
  const cell = (key: string): string => {
    const xs = samples.get(`${name}|${key}|ready`);
    return xs ? `${median(xs).toFixed(0)} ms = ${(median(xs) / download).toFixed(2)}x` : '-';
  };
  console.log(`| ${name} | ${backends.map((b) => VARIANTS.map((v) => cell(`${b}|${v}`)).join(' | ')).join(' | ')} |`);
}
for (const [key, ms] of samples) console.log(`  ${key}: ${ms.map((x) => x.toFixed(0)).join(' ')}`);
