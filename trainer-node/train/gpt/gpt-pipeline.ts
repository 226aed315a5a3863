// `kiln train --arch gpt` end to end: the sonnets -> float training -> QAT (int8 per column or int4
// blocks) -> ONNX decoder with past key values -> held-out loss through Kiln's runtime and a sample
// written by Kiln's decode loop -> .kiln + .onnx + report, written atomically.
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tensor } from '../../../core/tensor.ts';
import type { BundleSpec } from '../../../runtime/format/kiln/bundle-spec.ts';
import { encodeKilnBundle } from '../../../runtime/format/kiln/kiln-writer.ts';
import { encodeOnnxModel } from '../../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../../runtime/node.ts';
import { createRng } from '../../data/rng.ts';
import { encodeText, type TextCorpus } from '../../data/sonnets.ts';
import { StagedFiles } from '../../export/atomic-write.ts';
import { GPT_INPUTS, gptToOnnx, pastName, presentName } from '../../export/gpt-onnx.ts';
import type { WeightScheme } from '../fake-quant.ts';
import { siblingPath } from '../pipeline.ts';
import { initTf } from '../tf-backend.ts';
import { assignGptSchemes, buildGpt, disposeGpt, gptForward, type Gpt, type GptConfig } from './gpt-model.ts';
import { trainGptPhase } from './gpt-train.ts';

export type GptBits = 32 | 8 | 4;

export interface GptTrainOptions {
  readonly corpus: TextCorpus;
  readonly bits: GptBits;
  readonly dModel: number;
  readonly heads: number;
  readonly layers: number;
  readonly maxPositions: number;
  /** training window (tokens per sequence) */
  readonly window: number;
  /** optimizer steps in all; the last third are QAT when bits < 32 */
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  readonly out: string;
  readonly entropyCoding: boolean;
  readonly commandLine: string;
  /** the sample's prompt and length */
  readonly prompt: string;
  readonly sampleTokens: number;
  readonly onStep?: (phase: string, step: number, steps: number, loss: number) => void;
  readonly checkInterrupt?: () => void;
}

export interface GptReport {
  readonly corpus: string;
  readonly vocabSize: number;
  readonly config: GptConfig;
  readonly bits: GptBits;
  readonly seed: number;
  readonly backend: string;
  readonly steps: { readonly float: number; readonly qat: number };
  /** mean next-character loss in bits per character */
  readonly trainBitsPerChar: { readonly first: number; readonly last: number };
  readonly testBitsPerChar: { readonly tfjs: number; readonly kiln: number };
  readonly bytes: { readonly kiln: number; readonly onnx: number; readonly floatOnnx: number; readonly kilnVsFloatOnnx: number };
  readonly sample: { readonly prompt: string; readonly text: string };
  readonly seconds: { readonly train: number; readonly total: number };
}

export interface GptTrainResult {
  readonly report: GptReport;
  readonly files: string[];
  readonly kiln: Uint8Array;
  readonly onnx: Uint8Array;
}

const TOOL_VERSION = '0.1.0';
const LOG2E = Math.LOG2E;

export function schemeFor(bits: GptBits, dModel: number): WeightScheme | undefined {
  if (bits === 32) return undefined;
  // int4 blocks of 32 along k (every k here is a multiple of dModel), as MatMulNBits-style exports use
  return bits === 8 ? { kind: 'per-channel', bits: 8 } : { kind: 'block', bits: 4, blockSize: Math.min(32, dModel) };
}

export async function runGptTraining(o: GptTrainOptions): Promise<GptTrainResult> {
  const started = Date.now();
  const backend = await initTf();
  const config: GptConfig = { vocabSize: o.corpus.vocab.length, dModel: o.dModel, heads: o.heads, layers: o.layers, maxPositions: o.maxPositions };
  const g = buildGpt(config, o.seed);
  const rng = createRng(o.seed);
  const scheme = schemeFor(o.bits, o.dModel);
  const qatSteps = scheme ? Math.max(1, Math.round(o.steps / 3)) : 0;
  const floatSteps = Math.max(1, o.steps - qatSteps);
  const staged = new StagedFiles();
  try {
    const common = { batchSize: o.batchSize, window: o.window, rng, ...(o.checkInterrupt ? { checkInterrupt: o.checkInterrupt } : {}) };
    const float = await trainGptPhase(g, o.corpus.train, { ...common, steps: floatSteps, learningRate: o.learningRate, onStep: (s, l) => o.onStep?.('float', s, floatSteps, l) });
    const floatOnnx = encodeOnnxModel(gptToOnnx(g, { quantized: false }));
    let last = float.lastLoss;
    let trainSeconds = float.seconds;
    if (scheme) {
      assignGptSchemes(g, scheme);
      const qat = await trainGptPhase(g, o.corpus.train, { ...common, steps: qatSteps, learningRate: o.learningRate / 3, onStep: (s, l) => o.onStep?.(`int${o.bits} QAT`, s, qatSteps, l) });
      last = qat.lastLoss;
      trainSeconds += qat.seconds;
    }
    const onnx = scheme ? encodeOnnxModel(gptToOnnx(g, { quantized: true })) : floatOnnx;
    const testTf = tfjsLoss(g, o.corpus.test, o.window);
    const testKiln = await kilnLoss(onnx, o.corpus.test, o.window);
    const sampleText = await greedySample(onnx, config, o.corpus.vocab, o.prompt, o.sampleTokens);
    const spec: BundleSpec = {
      inputs: [{ name: GPT_INPUTS.ids, layout: 'NT' }, { name: GPT_INPUTS.mask, layout: 'NT' }, { name: GPT_INPUTS.positions, layout: 'NT' }],
      outputs: [{ name: 'logits', labels: o.corpus.vocab, kind: 'logits' }],
      metadata: {
        name: basename(o.out).replace(/\.kiln$/i, ''),
        version: '1',
        task: 'text-generation',
        tokenizer: { kind: 'characters', vocab: o.corpus.vocab },
        decoder: { layers: o.layers, heads: o.heads, headDim: o.dModel / o.heads, maxPositions: o.maxPositions, past: 'past_key_values.{i}.key|value', present: 'present.{i}.key|value' },
        provenance: {
          tool: 'kiln train', toolVersion: TOOL_VERSION, createdAt: createdAt(), command: o.commandLine, seed: o.seed,
          dataset: o.corpus.name, arch: 'gpt', steps: { float: floatSteps, qat: qatSteps }, batchSize: o.batchSize, window: o.window, learningRate: o.learningRate,
        },
        metrics: { testBitsPerChar: Number(testKiln.toFixed(4)), weightBits: o.bits },
      },
    };
    const kiln = await encodeKilnBundle(gptToOnnx(g, { quantized: scheme !== undefined }), spec, { entropyCoding: o.entropyCoding });
    const report: GptReport = {
      corpus: o.corpus.name, vocabSize: config.vocabSize, config, bits: o.bits, seed: o.seed, backend,
      steps: { float: floatSteps, qat: qatSteps },
      trainBitsPerChar: { first: float.firstLoss * LOG2E, last: last * LOG2E },
      testBitsPerChar: { tfjs: testTf, kiln: testKiln },
      bytes: { kiln: kiln.length, onnx: onnx.length, floatOnnx: floatOnnx.length, kilnVsFloatOnnx: kiln.length / floatOnnx.length },
      sample: { prompt: o.prompt, text: sampleText },
      seconds: { train: trainSeconds, total: (Date.now() - started) / 1000 },
    };
    staged.stage(o.out, kiln);
    staged.stage(siblingPath(o.out, '.onnx'), onnx);
    staged.stage(siblingPath(o.out, '.report.json'), `${JSON.stringify(report, null, 2)}\n`);
    o.checkInterrupt?.();
    return { report, files: staged.commit(), kiln, onnx };
  } finally {
    staged.discard();
    disposeGpt(g);
  }
}

function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString();
}

/** Consecutive windows of the text (positions 0..window-1), inputs and next-character targets. */
function windows(text: Int32Array, window: number): { x: Int32Array; y: Int32Array; count: number } {
  const count = Math.floor((text.length - 1) / window);
  return { x: text.slice(0, count * window), y: text.slice(1, count * window + 1), count };
}

/** Held-out bits per character of the TF.js model (fake-quantized when QAT ran). */
function tfjsLoss(g: Gpt, text: Int32Array, window: number): number {
  const { x, y, count } = windows(text, window);
  const positions = Int32Array.from({ length: count * window }, (_, i) => i % window);
  return tf.tidy(() => {
    const logits = gptForward(g, tf.tensor2d(x, [count, window], 'int32'), tf.tensor2d(positions, [count, window], 'int32'));
    const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), g.config.vocabSize), tf.reshape(logits, [count * window, g.config.vocabSize]));
    return (loss.dataSync()[0] ?? NaN) * LOG2E;
  });
}

const ids = (v: ArrayLike<number>, dims: number[]): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from(Array.from(v, (n) => BigInt(n))), dims);

/** The same measure through Kiln's runtime on the exported model, the way an app runs it. */
async function kilnLoss(onnx: Uint8Array, text: Int32Array, window: number): Promise<number> {
  const s = await InferenceSession.create(onnx, { executionProviders: ['wasm', 'js'] });
  try {
    const { x, y, count } = windows(text, window);
    const meta = s.inputMetadata.filter((m) => m.name.startsWith('past_key_values.'));
    const feeds: Record<string, Tensor<'int64'> | Tensor<'float32'>> = {
      [GPT_INPUTS.ids]: ids(x, [count, window]),
      [GPT_INPUTS.mask]: ids(new Int32Array(count * window).fill(1), [count, window]),
      [GPT_INPUTS.positions]: ids(Int32Array.from({ length: count * window }, (_, i) => i % window), [count, window]),
    };
    for (const m of meta) feeds[m.name] = new Tensor('float32', new Float32Array(0), [count, Number(m.shape[1]), 0, Number(m.shape[3])]);
    const logits = (await s.run(feeds))['logits']!.data as Float32Array;
    const v = logits.length / (count * window);
    let nats = 0;
    for (let i = 0; i < count * window; i++) {
      const row = logits.subarray(i * v, (i + 1) * v);
      let max = -Infinity;
      for (const l of row) max = Math.max(max, l);
      let sum = 0;
      for (const l of row) sum += Math.exp(l - max);
      nats += Math.log(sum) + max - row[y[i]!]!;
    }
    return (nats / (count * window)) * LOG2E;
  } finally {
    await s.release();
  }
}

/** Greedy continuation of `prompt` with Kiln's runtime: one prefill, then one token per run with the past fed back. */
async function greedySample(onnx: Uint8Array, c: GptConfig, vocab: readonly string[], prompt: string, tokens: number): Promise<string> {
  const s = await InferenceSession.create(onnx, { executionProviders: ['wasm', 'js'] });
  try {
    let input = Array.from(encodeText(vocab, prompt));
    const dh = c.dModel / c.heads;
    let past: Record<string, Tensor<'float32'>> = {};
    for (let l = 0; l < c.layers; l++) for (const kv of ['key', 'value'] as const) past[pastName(l, kv)] = new Tensor('float32', new Float32Array(0), [1, c.heads, 0, dh]);
    let pastLen = 0;
    let out = '';
    for (let t = 0; t < tokens && pastLen + input.length <= c.maxPositions; t++) {
      const r = await s.run({
        [GPT_INPUTS.ids]: ids(input, [1, input.length]),
        [GPT_INPUTS.mask]: ids(new Int32Array(pastLen + input.length).fill(1), [1, pastLen + input.length]),
        [GPT_INPUTS.positions]: ids(input.map((_, i) => pastLen + i), [1, input.length]),
        ...past,
      });
      const logits = r['logits']!.data as Float32Array;
      const last = logits.subarray((input.length - 1) * vocab.length, input.length * vocab.length);
      let best = 0;
      for (let i = 1; i < last.length; i++) if (last[i]! > last[best]!) best = i;
      out += vocab[best]!;
      pastLen += input.length;
      past = {};
      for (let l = 0; l < c.layers; l++) for (const kv of ['key', 'value'] as const) past[pastName(l, kv)] = r[presentName(l, kv)] as Tensor<'float32'>;
      input = [best];
    }
    return out;
  } finally {
    await s.release();
  }
}
