// One training phase (float warm-up, or QAT fine-tuning): mini-batches in a seeded order, Adam with
// a cosine-decayed learning rate, optional pruning schedule and distillation from a teacher.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/dataset.ts';
import { permutation, type Rng } from '../data/rng.ts';
import { Adam } from './adam.ts';
import { absorbStats, forward, trainableVariables, type ForwardOptions, type Net } from './net.ts';
import type { EpochProgress } from './progress.ts';
import { applyPruning, reapplyMasks, scheduledSparsity, type PruneConfig } from './prune.ts';

export interface Distillation {
  /** the teacher's logits for a batch (inference mode, no gradient needed) */
  readonly teacher: (x: tf.Tensor) => tf.Tensor;
  /** softmax temperature for the soft targets */
  readonly temperature: number;
  /** weight of the soft-target loss (1 - alpha on the labels) */
  readonly alpha: number;
}

export interface PhaseOptions {
  readonly name: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly rng: Rng;
  readonly prune?: { readonly config: PruneConfig; /** share of this phase's steps over which sparsity rises */ readonly rampEnd: number };
  readonly distill?: Distillation;
  readonly onProgress?: (p: EpochProgress) => void;
  /** checked between batches: throw to stop (SIGINT) */
  readonly checkInterrupt?: () => void;
}

export interface PhaseResult {
  readonly loss: number;
  readonly trainAccuracy: number;
  readonly seconds: number;
  readonly steps: number;
}

/** Copies rows `idx` of a split into an [n, ...shape] tensor and one-hot labels. */
export function batchTensors(split: Split, idx: ArrayLike<number>, shape: readonly number[], classes: number): { x: tf.Tensor; y: tf.Tensor; labels: Int32Array } {
  const size = shape.reduce((a, b) => a * b, 1);
  const xs = new Float32Array(idx.length * size);
  const labels = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    xs.set(split.x.subarray(idx[i]! * size, (idx[i]! + 1) * size), i * size);
    labels[i] = split.y[idx[i]!]!;
  }
  return { x: tf.tensor(xs, [idx.length, ...shape]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), classes), labels };
}

function lossOf(net: Net, x: tf.Tensor, y: tf.Tensor, opts: ForwardOptions, distill?: Distillation): { loss: tf.Scalar; logits: tf.Tensor } {
  const logits = forward(net, x, opts);
  let loss = tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  if (distill) {
    const T = distill.temperature;
    // Soft targets: cross-entropy against the teacher's softened distribution has the same gradient
    // as the KL divergence; T^2 keeps its scale comparable to the label loss (Hinton et al.).
    const soft = tf.softmax(tf.div(distill.teacher(x), T));
    const softLoss = tf.mul(tf.losses.softmaxCrossEntropy(soft, tf.div(logits, T)), T * T);
    loss = tf.add(tf.mul(loss, 1 - distill.alpha), tf.mul(softLoss, distill.alpha)) as tf.Scalar;
  }
  return { loss, logits };
}

export async function trainPhase(net: Net, train: Split, classes: number, opts: PhaseOptions): Promise<PhaseResult> {
  const started = Date.now();
  const vars = trainableVariables(net);
  const adam = new Adam(opts.learningRate);
  const stepsPerEpoch = Math.ceil(train.n / opts.batchSize);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const rampSteps = opts.prune ? Math.max(1, Math.floor(totalSteps * opts.prune.rampEnd)) : 0;
  const pruneEvery = Math.max(1, Math.floor(rampSteps / 20));
  let step = 0;
  let lastLoss = NaN;
  let lastAcc = NaN;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = permutation(train.n, opts.rng);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        // Yield to the event loop so SIGINT/SIGTERM handlers run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
        opts.checkInterrupt?.();
        adam.lr = opts.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps));
        const idx = order.subarray(b * opts.batchSize, Math.min(train.n, (b + 1) * opts.batchSize));
        const { x, y, labels } = batchTensors(train, idx, net.inputShape, classes);
        const stats: NonNullable<ForwardOptions['stats']> = { ranges: new Map(), moments: new Map() };
        let predicted: Int32Array | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const { loss, logits } = lossOf(net, x, y, { training: true, stats }, opts.distill);
          predicted = tf.keep(tf.argMax(logits, 1)).dataSync() as Int32Array;
          return loss;
        }, vars);
        adam.step(vars, grads);
        absorbStats(stats);
        lossSum += value.dataSync()[0]! * idx.length;
        for (let i = 0; i < idx.length; i++) if (predicted![i] === labels[i]) correct++;
        seen += idx.length;
        tf.dispose([value, x, y, ...Object.values(grads)]);
        step++;
        if (opts.prune) {
          if (step <= rampSteps && (step % pruneEvery === 0 || step === rampSteps)) {
            const target = opts.prune.config.kind === '2:4' ? 0.5 : scheduledSparsity(opts.prune.config.sparsity, step / rampSteps);
            applyPruning(net, opts.prune.config, target);
          } else reapplyMasks(net);
        }
        lastLoss = lossSum / seen;
        lastAcc = correct / seen;
        opts.onProgress?.({ phase: opts.name, epoch: epoch + 1, epochs: opts.epochs, step: b + 1, steps: stepsPerEpoch, loss: lastLoss, accuracy: lastAcc, seconds: (Date.now() - started) / 1000 });
      }
    }
  } finally {
    adam.dispose();
  }
  return { loss: lastLoss, trainAccuracy: lastAcc, seconds: (Date.now() - started) / 1000, steps: step };
}

/** Logits of the whole split in inference mode (batched). */
export function predictLogits(net: Net, split: Split, batchSize = 500): Float32Array {
  const size = net.inputShape.reduce((a, b) => a * b, 1);
  let classes = 0;
  const chunks: Float32Array[] = [];
  for (let s = 0; s < split.n; s += batchSize) {
    const n = Math.min(batchSize, split.n - s);
    const out = tf.tidy(() => forward(net, tf.tensor(split.x.subarray(s * size, (s + n) * size), [n, ...net.inputShape]), { training: false }));
    classes = out.shape[1]!;
    chunks.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const all = new Float32Array(split.n * classes);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return all;
}

export function accuracyOf(logits: Float32Array, labels: Int32Array): number {
  const classes = logits.length / labels.length;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    if (best === labels[i]) correct++;
  }
  return labels.length ? correct / labels.length : 0;
}
