// `kiln compress`: post-training quantization of an ONNX model into a .kiln bundle (and optionally
// the same model as QDQ ONNX for onnxruntime). The steps: prepare the float model (fold, opset),
// calibrate activation ranges on the calibration inputs, measure each layer's sensitivity, quantize
// every layer not kept in float, and measure the result against the float model.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fail } from '../../core/errors.ts';
import type { BundleSpec } from '../../runtime/format/kiln/bundle-spec.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { resolveGraph } from '../../runtime/plan/resolved-graph.ts';
import { toNumbers } from '../../kernels/common/values.ts';
import { buildDriftReference } from '../../runtime/telemetry/drift/build-reference.ts';
import type { DriftReference } from '../../runtime/telemetry/drift/drift-reference.ts';
import { RangeCollector } from './activation-ranges.ts';
import { loadCalibration, syntheticCalibration, type CalibrationSet } from './calibration-data.ts';
import { findLayers } from './layers.ts';
import { prepareFloatModel } from './prepare-model.ts';
import type { ParsedCompressArgs } from './options.ts';
import { Progress } from './progress.ts';
import { buildQdqModel, type LayerScheme } from './qdq-model.ts';
import { outputError, runModel, type OutputError, type Outputs } from './run-model.ts';

/** The parsed command line plus what the caller provides (provenance, where progress goes). */
export interface CompressOptions extends ParsedCompressArgs {
  /** recorded in the provenance */
  readonly commandLine: string;
  /** progress bars go here (process.stderr in the CLI) */
  readonly progress?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly warn?: (message: string) => void;
  /** draws synthetic calibration inputs and the percentile reservoir (default Math.random); tests pass a seeded one */
  readonly random?: () => number;
}

export interface SensitivityRow {
  readonly layer: string;
  readonly opType: string;
  readonly scheme: string;
  readonly error: OutputError;
}

export interface SizeRow {
  readonly what: string;
  readonly bytes: number;
  readonly gzip: number;
}

export interface CompressResult {
  readonly layers: number;
  readonly quantized: number;
  readonly kept: readonly string[];
  readonly schemes: readonly LayerScheme[];
  readonly sensitivity: readonly SensitivityRow[];
  readonly error: OutputError;
  readonly sizes: readonly SizeRow[];
  readonly calibration: CalibrationSet;
  readonly qdq: WriterModel;
  readonly sourceSha256: string;
}

const size = (what: string, bytes: Uint8Array): SizeRow => ({ what, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });

/** Writes next to the target, then renames: a reader never sees a half-written file. */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export async function compressModel(o: CompressOptions): Promise<CompressResult> {
  if (!existsSync(o.input)) fail('INVALID_ARGUMENT', `no such model file: ${o.input}`);
  const bytes = new Uint8Array(readFileSync(o.input));
  const sourceSha256 = await sha256Hex(bytes);
  const source = readOnnxModel(bytes);
  resolveGraph(source); // names every op Kiln cannot run, before any work
  const float = prepareFloatModel(bytes, source, o.bits === 4 ? 21 : 13);
  const layers = findLayers(float);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const nodeNames = new Set(float.nodes.map((n) => n.name));
  for (const k of o.keep) {
    if (!byName.has(k)) {
      const why = nodeNames.has(k) || source.graph.nodes.some((n) => n.name === k) ? 'is not a quantizable layer (Conv, MatMul or Gemm with a constant weight)' : 'does not exist in the model';
      fail('INVALID_ARGUMENT', `--keep ${k}: node '${k}' ${why}; quantizable layers: ${layers.slice(0, 8).map((l) => l.name).join(', ')}${layers.length > 8 ? `, ... (${layers.length})` : ''}`);
    }
  }
  if (layers.length === 0) fail('UNSUPPORTED_FEATURE', 'the model has no Conv, MatMul or Gemm with a constant float32 weight: nothing to quantize');

  const calibration = o.calib ? loadCalibration(o.calib, float.inputs.map((i) => ({ name: i.name, dtype: i.dtype, dims: i.dims })), o.samples) : syntheticCalibration(float, Math.min(o.samples, 8), o.freeDim, o.random);
  if (calibration.synthetic) {
    o.warn?.([
      '*** WARNING: no --calib folder: calibrating on SYNTHETIC inputs. ***',
      `*** ${calibration.origin}. Activation ranges, the sensitivity report and the error table describe random data, not your inputs; expect worse accuracy on real data. ***`,
    ].join('\n'));
  }

  // 1. float run: reference outputs and activation ranges
  const ranges = new RangeCollector(o.method, o.percentile, o.random);
  const watched = o.bits === 8 ? [...new Set(layers.flatMap((l) => [l.input, l.output]))] : [];
  const calibBar = new Progress('calibrate', calibration.samples.length, o.progress);
  const reference = await runModel(float, calibration.samples, {
    fetch: watched,
    onSample: (i, out) => {
      for (const name of watched) {
        const t = out[name] ?? calibration.samples[i]![name];
        if (t) ranges.add(name, t);
      }
      calibBar.tick(i + 1);
    },
  });
  await checkPreparedModel(bytes, float, calibration, reference[0]!);

  // 2. sensitivity: each layer quantized alone
  const sensitivity: SensitivityRow[] = [];
  const nSens = Math.min(o.sensitivitySamples, calibration.samples.length);
  if (nSens > 0) {
    const bar = new Progress('sensitivity', layers.length, o.progress);
    const sub = calibration.samples.slice(0, nSens);
    for (const [i, layer] of layers.entries()) {
      const { model, schemes: [only] } = buildQdqModel(float, [layer], ranges, o);
      const got = await runModel(model, sub);
      sensitivity.push({ layer: layer.name, opType: layer.opType, scheme: only!.scheme, error: outputError(reference.slice(0, nSens), got) });
      bar.tick(i + 1, layer.name);
    }
    sensitivity.sort((a, b) => b.error.meanAbs - a.error.meanAbs);
  }

  // 3. the quantized model, measured on every calibration sample
  const chosen = layers.filter((l) => !o.keep.includes(l.name));
  const { model: qdq, schemes } = buildQdqModel(float, chosen, ranges, o);
  const evalBar = new Progress('evaluate', calibration.samples.length, o.progress);
  const got = await runModel(qdq, calibration.samples, { onSample: (i) => evalBar.tick(i + 1) });
  const error = outputError(reference, got);

  // 4. outputs
  const drift = driftReference(calibration, reference);
  const spec: BundleSpec = {
    inputs: float.inputs.map((i) => ({ name: i.name })),
    outputs: float.outputs.map((out) => ({ name: out.name })),
    metadata: {
      provenance: {
        tool: 'kiln compress',
        toolVersion: '1',
        createdAt: new Date().toISOString(),
        commandLine: o.commandLine,
        sourceSha256,
        source: o.input,
        quantization: o.bits === 8 ? `int8 per-channel symmetric weights, uint8 asymmetric activations (${o.method}${o.method === 'percentile' ? ` ${o.percentile}` : ''})` : `int4 block-wise weights (block ${o.block}), float activations`,
        calibration: calibration.origin,
        keptInFloat: [...o.keep],
      },
      metrics: {
        outputMaxAbsError: error.maxAbs,
        outputMeanAbsError: error.meanAbs,
        ...(error.top1 !== undefined ? { top1Agreement: error.top1 } : {}),
        calibrationSamples: calibration.samples.length,
        syntheticCalibration: calibration.synthetic ? 'yes' : 'no',
      },
      ...(drift ? { drift } : {}),
    },
  };
  const onnxBytes = encodeOnnxModel(qdq);
  const kiln = await encodeKilnBundle(qdq, spec);
  writeAtomic(o.out, kiln);
  if (o.onnxOut) writeAtomic(o.onnxOut, onnxBytes);
  const sizes = [size('float ONNX (source)', bytes), size(`QDQ ONNX int${o.bits}`, onnxBytes), size(`.kiln int${o.bits}`, kiln)];
  return { layers: layers.length, quantized: chosen.length, kept: o.keep, schemes, sensitivity, error, sizes, calibration, qdq, sourceSha256 };
}

/**
 * The prepared float model (folded, opset raised) must compute what the source computes: checked
 * on the first sample, so an opset rewrite that changed meaning stops here instead of shipping.
 */
async function checkPreparedModel(bytes: Uint8Array, float: WriterModel, calibration: CalibrationSet, prepared: Outputs): Promise<void> {
  const original = await runSource(bytes, calibration);
  const e = outputError([original], [prepared]);
  let scale = 1e-6;
  for (const t of Object.values(original)) for (const v of toNumbers(t)) scale = Math.max(scale, Math.abs(v));
  if (!(e.maxAbs <= 1e-3 * scale + 1e-4)) fail('INTERNAL', `the prepared float model differs from the source by up to ${e.maxAbs} (BatchNorm folding or the opset upgrade changed results)`);
}

async function runSource(bytes: Uint8Array, calibration: CalibrationSet): Promise<Outputs> {
  const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    return await s.run(calibration.samples[0]!);
  } finally {
    await s.release();
  }
}

function driftReference(calibration: CalibrationSet, reference: readonly Outputs[]): DriftReference | undefined {
  const batches = calibration.samples.map((feed, i) => ({ inputs: feed, outputs: reference[i]! }));
  return buildDriftReference(batches, { origin: `kiln compress calibration: ${calibration.origin}` });
}
