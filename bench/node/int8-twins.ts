// The int8 CNNs of issue 11's "int8 faster than float" with their float twins, built the same way for
// every bench that compares them (int8-cpu-ratio.ts, int8-step-profile.ts, wasm-step-times.ts): the
// QDQ MobileNetV3-like model (test/helpers/mobilenet-qdq.ts) and PaddleOCR v2 cls through
// `kiln compress` (int8, minmax, one random calibration sample).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paddleOcrModel } from '../../test/helpers/models.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../../test/helpers/mobilenet-qdq.ts';
import { buildParityModel } from '../../test/helpers/qdq-parity.ts';
import { compressModel } from '../../trainer-node/compress/compress.ts';

export interface Int8Twin {
  readonly name: string;
  readonly f32: Uint8Array;
  readonly int8: Uint8Array;
  readonly dims: readonly number[];
}

export async function int8Twins(random: () => number): Promise<Int8Twin[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-twins-'));
  const cls = paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
  await compressModel({
    input: cls, bits: 8, method: 'minmax', percentile: 99.99, block: 32, keep: [], out: join(dir, 'm.kiln'), onnxOut: join(dir, 'm.onnx'),
    samples: 1, sensitivitySamples: 0, freeDim: 192, commandLine: 'bench', random,
  });
  return [
    { name: 'MobileNetV3-like', f32: floatModel(buildMobileNet(5), false), int8: (await buildParityModel(5)).qdq, dims: MOBILENET_INPUT },
    { name: 'PaddleOCR cls', f32: new Uint8Array(readFileSync(cls)), int8: new Uint8Array(readFileSync(join(dir, 'm.onnx'))), dims: [1, 3, 48, 192] },
  ];
}
