// Next-character training of the GPT: random windows of the corpus at random position offsets (so
// every position embedding up to maxPositions is trained, and generation may run past the window
// length), cross-entropy over every position, Adam with a cosine learning rate, gradient clipping.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../data/rng.ts';
import { Adam } from '../adam.ts';
import { gptForward, gptVariables, type Gpt } from './gpt-model.ts';

export interface GptPhaseOptions {
  readonly steps: number;
  readonly batchSize: number;
  readonly window: number;
  readonly learningRate: number;
  readonly rng: Rng;
  readonly onStep?: (step: number, loss: number) => void;
  /** throws to stop between steps */
  readonly checkInterrupt?: () => void;
}

/** `batch` windows of `window + 1` tokens: inputs, next-token targets and their positions. */
export function sampleWindows(text: Int32Array, batch: number, window: number, maxPositions: number, rng: Rng): { x: Int32Array; y: Int32Array; pos: Int32Array } {
  const x = new Int32Array(batch * window);
  const y = new Int32Array(batch * window);
  const pos = new Int32Array(batch * window);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(rng() * (text.length - window - 1));
    const offset = Math.floor(rng() * (maxPositions - window + 1));
    for (let i = 0; i < window; i++) {
      x[b * window + i] = text[start + i]!;
      y[b * window + i] = text[start + i + 1]!;
      pos[b * window + i] = offset + i;
    }
  }
  return { x, y, pos };
}

/** Mean cross-entropy (nats per character) of next-character prediction. */
export function gptLoss(g: Gpt, x: Int32Array, y: Int32Array, pos: Int32Array, batch: number, window: number): tf.Scalar {
  return tf.tidy(() => {
    const logits = gptForward(g, tf.tensor2d(x, [batch, window], 'int32'), tf.tensor2d(pos, [batch, window], 'int32'));
    const labels = tf.oneHot(tf.tensor1d(y, 'int32'), g.config.vocabSize);
    return tf.losses.softmaxCrossEntropy(labels, tf.reshape(logits, [batch * window, g.config.vocabSize])) as tf.Scalar;
  });
}

export interface GptPhaseResult {
  readonly firstLoss: number;
  readonly lastLoss: number;
  readonly seconds: number;
}

export async function trainGptPhase(g: Gpt, text: Int32Array, o: GptPhaseOptions): Promise<GptPhaseResult> {
  const started = Date.now();
  const vars = gptVariables(g);
  const adam = new Adam(o.learningRate);
  let firstLoss = NaN;
  let lastLoss = NaN;
  try {
    for (let step = 0; step < o.steps; step++) {
      o.checkInterrupt?.();
      adam.lr = o.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / o.steps));
      const { x, y, pos } = sampleWindows(text, o.batchSize, o.window, g.config.maxPositions, o.rng);
      const { value, grads } = tf.variableGrads(() => gptLoss(g, x, y, pos, o.batchSize, o.window), vars);
      const clipped = clipByGlobalNorm(grads, 1);
      adam.step(vars, clipped);
      tf.dispose([...Object.values(grads), ...Object.values(clipped)]);
      lastLoss = (await value.data())[0]!;
      value.dispose();
      if (step === 0) firstLoss = lastLoss;
      o.onStep?.(step, lastLoss);
      await new Promise((r) => setImmediate(r)); // lets a SIGINT handler run between steps
    }
  } finally {
    adam.dispose();
  }
  return { firstLoss, lastLoss, seconds: (Date.now() - started) / 1000 };
}

function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
    const scale = norm > maxNorm ? maxNorm / norm : 1;
    const out: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) out[name] = tf.keep(tf.mul(g, scale));
    return out;
  });
}
