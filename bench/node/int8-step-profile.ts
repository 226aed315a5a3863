// `node --import tsx bench/node/int8-step-profile.ts`: the steps Kiln's wasm backend runs for the
// QDQ MobileNetV3-like model and the PaddleOCR cls int8 twin beside their float models (counts per
// op type), to see where the int8 graphs have more steps than the float ones.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { seededRandom, uniform } from '../page/seeded.ts';

const rand = seededRandom(20261203);

async function profile(name: string, bytes: Uint8Array, dims: readonly number[]): Promise<void> {
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  const x = uniform(rand, dims.reduce((a, d) => a * d, 1), 1);
  await s.run({ [s.inputNames[0]!]: new Tensor('float32', x, [...dims]) });
  const steps = s.lastPlacement?.steps ?? [];
  const counts = new Map<string, number>();
  for (const st of steps) counts.set(`${st.opType}@${st.implementation}`, (counts.get(`${st.opType}@${st.implementation}`) ?? 0) + 1);
  console.log(`${name}: ${steps.length} steps: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

const mobile = await buildParityModel(5);
await profile('MobileNetV3-like f32', floatModel(buildMobileNet(5), false), MOBILENET_INPUT);
await profile('MobileNetV3-like int8', mobile.qdq, MOBILENET_INPUT);
const dims = [1, 3, 48, 192];
const file = paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-'));
await compressModel({
  input: file, bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'),
  samples: 1, sensitivitySamples: 0, freeDim: dims[3]!, commandLine: 'bench', random: rand,
});
await profile('PaddleOCR cls f32', new Uint8Array(readFileSync(file)), dims);
await profile('PaddleOCR cls int8', new Uint8Array(readFileSync(join(dir, 'm.onnx'))), dims);
