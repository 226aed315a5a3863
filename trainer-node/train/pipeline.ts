// `kiln train` end to end: dataset -> float warm-up (BatchNorm, optional gradual pruning) -> fold
// BatchNorm -> QAT fine-tuning (optionally distilled from the float model) -> QDQ export ->
// accuracy through Kiln's runtime -> .kiln + ONNX (+ TF.js) + report, written atomically.
import { basename } from 'node:path';
import { Tensor } from '../../core/tensor.ts';
import type { BundleSpec } from '../../runtime/format/kiln/bundle-spec.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { buildDriftReference } from '../../runtime/telemetry/drift/build-reference.ts';
import { limitRows, sampleSize, type Dataset } from '../data/dataset.ts';
import { createRng } from '../data/rng.ts';
import { StagedFiles } from '../export/atomic-write.ts';
import { kilnLogits } from '../export/evaluate.ts';
import { INPUT_NAME, netToOnnx, OUTPUT_NAME, toNchw } from '../export/onnx-graph.ts';
import { tfjsModelArtifacts } from '../export/tfjs-model.ts';
import * as tf from '@tensorflow/tfjs';
import { buildNet, cloneNet, disposeNet, foldBatchNorm, forward, paramLayers, type Net } from './net.ts';
import { loadTfjsTeacher } from './teacher.ts';
import { ProgressBar } from './progress.ts';
import { measureSparsity, type PruneConfig } from './prune.ts';
import { assignSchemes, describeScheme, type Bits } from './qat.ts';
import { defaultsFor, layersFor, splitEpochs, type Arch } from './recipes.ts';
import type { TrainReport } from './report.ts';
import { initTf } from './tf-backend.ts';
import { accuracyOf, predictLogits, trainPhase } from './trainer.ts';

export interface TrainOptions {
  readonly dataset: Dataset;
  readonly arch: Arch;
  readonly bits: Bits;
  readonly prune?: PruneConfig;
  readonly distill: boolean;
  /** a float teacher exported earlier with --tfjs (folder with model.json); default: the float warm-up model */
  readonly teacherDir?: string;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly seed: number;
  /** the .kiln path; the ONNX and report go beside it (model.onnx, model.report.json) */
  readonly out: string;
  /** also write a TF.js model (model.json + weights.bin) into this folder */
  readonly tfjsDir?: string;
  /** deflate-raw the bundle's sections (default on: packed and pruned weights shrink) */
  readonly entropyCoding?: boolean;
  /** training rows used (quick runs, tests); default all */
  readonly trainLimit?: number;
  readonly testLimit?: number;
  /** samples used for the drift reference (default 10000) */
  readonly driftSamples?: number;
  /** recorded in the bundle's provenance */
  readonly commandLine: string;
  readonly progress?: ProgressBar | false;
  /** throws to stop between batches */
  readonly checkInterrupt?: () => void;
}

export interface TrainResult {
  readonly report: TrainReport;
  readonly files: string[];
  readonly kiln: Uint8Array;
  readonly onnx: Uint8Array;
  readonly floatOnnx: Uint8Array;
  /** the trained (fake-quantized) TF.js model's logits on the test rows used: the parity reference */
  readonly tfjsTestLogits: Float32Array;
}

const TOOL_VERSION = '0.1.0';

/** SOURCE_DATE_EPOCH (reproducible-builds convention) pins createdAt so a seed gives identical bytes. */
function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString();
}

/** CPU time of this process since `start`: on a shared machine, closer to what an idle one takes than wall time. */
const cpuSeconds = (start: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
};

export const siblingPath = (out: string, ext: string): string => out.replace(/\.kiln$/i, '') + ext;

export async function runTraining(opts: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const backend = await initTf();
  const data = opts.dataset;
  const size = sampleSize(data);
  const train = limitRows(data.train, size, opts.trainLimit);
  const test = limitRows(data.test, size, opts.testLimit);
  const classes = data.classes.length;
  const defaults = defaultsFor(opts.arch, data.kind, train.n);
  const epochs = opts.epochs ?? defaults.epochs;
  const batchSize = opts.batchSize ?? defaults.batchSize;
  const lr = opts.learningRate ?? defaults.learningRate;
  const quantized = opts.bits !== 32;
  const split = splitEpochs(epochs, quantized);
  const rng = createRng(opts.seed);
  const bar = opts.progress === false ? undefined : (opts.progress ?? new ProgressBar());
  const onProgress = bar ? bar.update.bind(bar) : undefined;

  const net = buildNet(data.sampleShape, layersFor(opts.arch, data.kind, classes), opts.seed);
  let teacher: Net | undefined;
  let givenTeacher: tf.LayersModel | undefined;
  const staged = new StagedFiles();
  try {
    const floatPhase = await trainPhase(net, train, classes, {
      name: 'float', epochs: split.float, batchSize, learningRate: lr, rng, onProgress,
      ...(opts.checkInterrupt ? { checkInterrupt: opts.checkInterrupt } : {}),
      ...(opts.prune ? { prune: { config: opts.prune, rampEnd: 0.75 } } : {}),
    });
    foldBatchNorm(net);
    const floatTfAccuracy = accuracyOf(predictLogits(net, test), test.y);
    const floatModel = netToOnnx(net, { quantized: false });
    const floatOnnx = encodeOnnxModel(floatModel);
    const floatKilnAccuracy = accuracyOf(await kilnLogits(floatOnnx, data, test), test.y);

    let qatPhase: Awaited<ReturnType<typeof trainPhase>> | undefined;
    if (quantized) {
      if (opts.distill && opts.teacherDir) givenTeacher = await loadTfjsTeacher(opts.teacherDir, data.sampleShape, classes);
      else if (opts.distill) teacher = cloneNet(net);
      const teacherFn = givenTeacher
        ? (x: tf.Tensor) => givenTeacher!.predict(x) as tf.Tensor
        : teacher
          ? (x: tf.Tensor) => forward(teacher!, x, { training: false })
          : undefined;
      assignSchemes(net, opts.bits);
      net.quantized = true;
      qatPhase = await trainPhase(net, train, classes, {
        name: `int${opts.bits} QAT`, epochs: split.qat, batchSize, learningRate: lr / 10, rng, onProgress,
        ...(opts.checkInterrupt ? { checkInterrupt: opts.checkInterrupt } : {}),
        ...(teacherFn ? { distill: { teacher: teacherFn, temperature: 4, alpha: 0.5 } } : {}),
      });
    } else if (opts.distill) {
      throw new Error('unreachable: --distill without quantization is rejected by the CLI');
    }
    const tfjsTestLogits = predictLogits(net, test);
    const quantTfAccuracy = accuracyOf(tfjsTestLogits, test.y);
    const model = quantized ? netToOnnx(net, { quantized: true }) : floatModel;
    const onnx = quantized ? encodeOnnxModel(model) : floatOnnx;
    const quantKilnLogits = quantized ? await kilnLogits(onnx, data, test) : undefined;
    const quantKilnAccuracy = quantKilnLogits ? accuracyOf(quantKilnLogits, test.y) : floatKilnAccuracy;
    const sparsity = measureSparsity(net);
    const trainingSeconds = (Date.now() - started) / 1000;

    // Drift reference: the model's inputs as a page feeds them (NCHW) and its outputs, on training rows.
    const driftRows = limitRows(train, size, opts.driftSamples ?? 10000);
    const driftLogits = predictLogits(net, driftRows);
    const inputDims = data.kind === 'image' ? [driftRows.n, data.sampleShape[2]!, data.sampleShape[0]!, data.sampleShape[1]!] : [driftRows.n, size];
    const drift = buildDriftReference(
      {
        inputs: { [INPUT_NAME]: new Tensor('float32', toNchw(driftRows.x, driftRows.n, data.sampleShape), inputDims) },
        outputs: { [OUTPUT_NAME]: new Tensor('float32', driftLogits, [driftRows.n, classes]) },
      },
      {
        origin: `${data.name} train (${driftRows.n})`,
        inputs: { [INPUT_NAME]: data.kind === 'image' ? { layout: 'NCHW' } : { layout: 'NF', ...(data.featureNames ? { featureNames: data.featureNames } : {}) } },
        outputs: { [OUTPUT_NAME]: { kind: 'classes', labels: data.classes } },
      },
    );
    const metrics: Record<string, number | string> = {
      accuracyFloat: floatKilnAccuracy,
      ...(quantized ? { accuracyQuantized: quantKilnAccuracy } : {}),
      testSamples: test.n,
      weightBits: opts.bits,
      sparsity: Number(sparsity.sparsity.toFixed(4)),
    };
    const spec: BundleSpec = {
      inputs: [{
        name: INPUT_NAME,
        layout: data.kind === 'image' ? 'NCHW' : 'NF',
        preprocessing: data.preprocessing,
        ...(data.featureNames ? { featureNames: data.featureNames } : {}),
      }],
      outputs: [{ name: OUTPUT_NAME, labels: data.classes, kind: 'logits' }],
      metadata: {
        name: basename(opts.out).replace(/\.kiln$/i, ''),
        version: '1',
        provenance: {
          tool: 'kiln train', toolVersion: TOOL_VERSION, createdAt: createdAt(),
          command: opts.commandLine, seed: opts.seed, dataset: data.name, arch: opts.arch,
          epochs: { float: split.float, qat: split.qat }, batchSize, learningRate: lr, trainSamples: train.n,
          ...(opts.prune ? { prune: opts.prune } : {}), distill: opts.distill, ...(opts.teacherDir ? { teacher: opts.teacherDir } : {}),
          weightSchemes: Object.fromEntries(paramLayers(net).map((l) => [l.name, describeScheme(quantized ? l.scheme : undefined)])),
        },
        metrics,
        drift,
      },
    };
    const kiln = await encodeKilnBundle(model, spec, { entropyCoding: opts.entropyCoding ?? true });
    const report: TrainReport = {
      dataset: data.name, arch: opts.arch, bits: opts.bits, seed: opts.seed, backend,
      trainSamples: train.n, testSamples: test.n,
      epochs: { float: split.float, qat: split.qat },
      accuracy: {
        floatKiln: floatKilnAccuracy, floatTfjs: floatTfAccuracy,
        quantizedKiln: quantKilnAccuracy, quantizedTfjs: quantTfAccuracy,
      },
      bytes: { kiln: kiln.length, onnx: onnx.length, floatOnnx: floatOnnx.length, kilnVsFloatOnnx: kiln.length / floatOnnx.length },
      sparsity: sparsity.sparsity,
      ...(opts.prune ? { prune: opts.prune } : {}),
      distill: opts.distill,
      seconds: { float: floatPhase.seconds, qat: qatPhase?.seconds ?? 0, total: trainingSeconds, cpu: cpuSeconds(cpuStart) },
      layers: paramLayers(net).map((l) => ({ name: l.name, kind: l.kind, shape: l.w.shape, scheme: describeScheme(quantized ? l.scheme : undefined) })),
    };
    staged.stage(opts.out, kiln);
    staged.stage(siblingPath(opts.out, '.onnx'), onnx);
    staged.stage(siblingPath(opts.out, '.report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (opts.tfjsDir) {
      const artifacts = await tfjsModelArtifacts(net, data);
      staged.stage(`${opts.tfjsDir}/model.json`, artifacts.modelJson);
      staged.stage(`${opts.tfjsDir}/weights.bin`, artifacts.weights);
    }
    opts.checkInterrupt?.();
    const files = staged.commit();
    return { report, files, kiln, onnx, floatOnnx, tfjsTestLogits };
  } finally {
    staged.discard();
    disposeNet(net);
    if (teacher) disposeNet(teacher);
    givenTeacher?.dispose();
  }
}
