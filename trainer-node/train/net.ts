// The trainable network: a plain stack of layers over TF.js variables (not tf.layers), so fake
// quantization, pruning masks, BatchNorm folding and the QDQ export all see the same parameters.
// Images are NHWC inside TF.js; the ONNX export converts to NCHW.
import * as tf from '@tensorflow/tfjs';
import { fakeQuantActivation, fakeQuantWeight, RangeObserver, type WeightScheme } from './fake-quant.ts';

export type LayerSpec =
  | { readonly kind: 'conv'; readonly filters: number; readonly kernel: number; readonly stride?: number }
  | { readonly kind: 'dense'; readonly units: number }
  | { readonly kind: 'bn' }
  | { readonly kind: 'relu' }
  | { readonly kind: 'maxpool'; readonly size: number }
  | { readonly kind: 'flatten' };

export interface ParamLayer {
  readonly kind: 'conv' | 'dense';
  readonly name: string;
  /** conv: [kh, kw, ci, co] (pads 'same'); dense: [k, n] */
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  readonly stride: number;
  /** 1 = kept, 0 = pruned; same shape as w */
  mask?: tf.Tensor;
  /** set for QAT: how this layer's weight is fake-quantized */
  scheme?: WeightScheme;
}

export interface BatchNormLayer {
  readonly kind: 'bn';
  readonly name: string;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVar: tf.Variable;
}

export interface ReluLayer {
  readonly kind: 'relu';
  readonly name: string;
  /** the range of this ReLU's output, quantized to uint8 during QAT and in the export */
  readonly observer: RangeObserver;
}

export type Layer = ParamLayer | BatchNormLayer | ReluLayer | { readonly kind: 'maxpool'; readonly name: string; readonly size: number } | { readonly kind: 'flatten'; readonly name: string };

export const BN_EPSILON = 1e-3;
const BN_MOMENTUM = 0.99;

export interface Net {
  /** per sample, e.g. [28, 28, 1] or [4] */
  readonly inputShape: readonly number[];
  layers: Layer[];
  /** range of the model input (quantized to uint8 in the export) */
  readonly inputObserver: RangeObserver;
  /** true once QAT starts: weights and activations are fake-quantized */
  quantized: boolean;
}

export interface ForwardOptions {
  readonly training: boolean;
  /** training only: filled with [min, max] tensors per observer, and batch moments per BN layer (caller disposes) */
  readonly stats?: { ranges: Map<RangeObserver, tf.Tensor>; moments: Map<BatchNormLayer, { mean: tf.Tensor; variance: tf.Tensor }> };
}

/** Builds variables for `specs` (He-normal weights from `seed`, zero biases). */
let netCount = 0;

export function buildNet(inputShape: readonly number[], specs: readonly LayerSpec[], seed: number): Net {
  let shape = [...inputShape];
  let s = seed;
  // TF.js variable names are global: each net gets its own prefix (teacher and student coexist).
  const prefix = `net${netCount++}`;
  const layers: Layer[] = specs.map((spec, i): Layer => {
    const name = `${spec.kind}${i}`;
    switch (spec.kind) {
      case 'conv': {
        const ci = shape[2]!;
        const stride = spec.stride ?? 1;
        const w = tf.variable(tf.randomNormal([spec.kernel, spec.kernel, ci, spec.filters], 0, Math.sqrt(2 / (spec.kernel * spec.kernel * ci)), 'float32', s++), true, `${prefix}/${name}/w`);
        shape = [Math.ceil(shape[0]! / stride), Math.ceil(shape[1]! / stride), spec.filters];
        return { kind: 'conv', name, w, b: tf.variable(tf.zeros([spec.filters]), true, `${prefix}/${name}/b`), stride };
      }
      case 'dense': {
        const k = shape[shape.length - 1]!;
        const w = tf.variable(tf.randomNormal([k, spec.units], 0, Math.sqrt(2 / k), 'float32', s++), true, `${prefix}/${name}/w`);
        shape = [spec.units];
        return { kind: 'dense', name, w, b: tf.variable(tf.zeros([spec.units]), true, `${prefix}/${name}/b`), stride: 1 };
      }
      case 'bn': {
        const c = shape[shape.length - 1]!;
        return {
          kind: 'bn', name,
          gamma: tf.variable(tf.ones([c]), true, `${prefix}/${name}/gamma`), beta: tf.variable(tf.zeros([c]), true, `${prefix}/${name}/beta`),
          movingMean: tf.variable(tf.zeros([c]), false, `${prefix}/${name}/mean`), movingVar: tf.variable(tf.ones([c]), false, `${prefix}/${name}/var`),
        };
      }
      case 'relu':
        return { kind: 'relu', name, observer: new RangeObserver() };
      case 'maxpool':
        shape = [Math.floor(shape[0]! / spec.size), Math.floor(shape[1]! / spec.size), shape[2]!];
        return { kind: 'maxpool', name, size: spec.size };
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        return { kind: 'flatten', name };
    }
  });
  return { inputShape, layers, inputObserver: new RangeObserver(), quantized: false };
}

/** The weight the forward pass uses: masked, then fake-quantized during QAT. */
export function effectiveWeight(l: ParamLayer, quantized: boolean): tf.Tensor {
  const masked = l.mask ? tf.mul(l.w, l.mask) : l.w;
  return quantized && l.scheme ? fakeQuantWeight(masked, l.scheme) : masked;
}

function observe(x: tf.Tensor, observer: RangeObserver, opts: ForwardOptions): void {
  if (opts.stats) opts.stats.ranges.set(observer, tf.keep(tf.stack([tf.min(x), tf.max(x)])));
}

/** Logits for a batch x: [n, ...inputShape]. */
export function forward(net: Net, x: tf.Tensor, opts: ForwardOptions): tf.Tensor {
  observe(x, net.inputObserver, opts);
  let h = net.quantized ? fakeQuantActivation(x, net.inputObserver.params()) : x;
  for (const l of net.layers) {
    switch (l.kind) {
      case 'conv':
        h = tf.add(tf.conv2d(h as tf.Tensor4D, effectiveWeight(l, net.quantized) as tf.Tensor4D, l.stride, 'same'), l.b);
        break;
      case 'dense':
        h = tf.add(tf.matMul(h as tf.Tensor2D, effectiveWeight(l, net.quantized) as tf.Tensor2D), l.b);
        break;
      case 'bn': {
        const axes = h.rank === 4 ? [0, 1, 2] : [0];
        let mean: tf.Tensor = l.movingMean;
        let variance: tf.Tensor = l.movingVar;
        if (opts.training) {
          ({ mean, variance } = tf.moments(h, axes));
          opts.stats?.moments.set(l, { mean: tf.keep(mean), variance: tf.keep(variance) });
        }
        h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), l.gamma), l.beta);
        break;
      }
      case 'relu':
        h = tf.relu(h);
        observe(h, l.observer, opts);
        if (net.quantized) h = fakeQuantActivation(h, l.observer.params());
        break;
      case 'maxpool':
        h = tf.maxPool(h as tf.Tensor4D, l.size, l.size, 'valid');
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0]!, -1]);
        break;
    }
  }
  return h;
}

const bnUpdates = new WeakMap<BatchNormLayer, number>();

/** After a training step: moving BN statistics and activation ranges take in the batch's. */
export function absorbStats(stats: NonNullable<ForwardOptions['stats']>): void {
  for (const [observer, t] of stats.ranges) {
    const [lo, hi] = t.dataSync();
    observer.update(lo!, hi!);
    t.dispose();
  }
  for (const [l, m] of stats.moments) {
    // A plain average over the first batches, then the EMA: short runs (small tabular sets) would
    // otherwise keep much of the initial mean 0 / variance 1 and fold a wrong BatchNorm.
    const t = (bnUpdates.get(l) ?? 0) + 1;
    bnUpdates.set(l, t);
    const momentum = Math.min(BN_MOMENTUM, 1 - 1 / t);
    tf.tidy(() => {
      l.movingMean.assign(tf.add(tf.mul(l.movingMean, momentum), tf.mul(m.mean, 1 - momentum)));
      l.movingVar.assign(tf.add(tf.mul(l.movingVar, momentum), tf.mul(m.variance, 1 - momentum)));
    });
    m.mean.dispose();
    m.variance.dispose();
  }
  stats.ranges.clear();
  stats.moments.clear();
}

export const paramLayers = (net: Net): ParamLayer[] => net.layers.filter((l): l is ParamLayer => l.kind === 'conv' || l.kind === 'dense');

export function trainableVariables(net: Net): tf.Variable[] {
  return net.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [l.w, l.b] : l.kind === 'bn' ? [l.gamma, l.beta] : []));
}

/**
 * Folds each BatchNorm into the conv/dense before it (w' = w * g / sqrt(var + eps) per output
 * channel, b' = (b - mean) * g / sqrt(var + eps) + beta), so QAT fine-tunes and quantizes the
 * weights that will actually be exported.
 */
export function foldBatchNorm(net: Net): void {
  const out: Layer[] = [];
  for (const l of net.layers) {
    const prev = out[out.length - 1];
    if (l.kind !== 'bn') {
      out.push(l);
      continue;
    }
    if (!prev || (prev.kind !== 'conv' && prev.kind !== 'dense')) throw new Error(`${l.name}: BatchNorm folding needs a conv or dense right before it`);
    tf.tidy(() => {
      const factor = tf.div(l.gamma, tf.sqrt(tf.add(l.movingVar, BN_EPSILON)));
      prev.w.assign(tf.mul(prev.w, factor));
      prev.b.assign(tf.add(tf.mul(tf.sub(prev.b, l.movingMean), factor), l.beta));
    });
    for (const v of [l.gamma, l.beta, l.movingMean, l.movingVar]) v.dispose();
  }
  net.layers = out;
}

export function disposeNet(net: Net): void {
  for (const l of net.layers) {
    if (l.kind === 'conv' || l.kind === 'dense') {
      l.w.dispose();
      l.b.dispose();
      l.mask?.dispose();
    } else if (l.kind === 'bn') for (const v of [l.gamma, l.beta, l.movingMean, l.movingVar]) v.dispose();
  }
}

/** A frozen copy (own variables) of a BatchNorm-free net: the float teacher for distillation. */
export function cloneNet(net: Net): Net {
  const prefix = `net${netCount++}`;
  const layers = net.layers.map((l): Layer => {
    if (l.kind === 'conv' || l.kind === 'dense') {
      return { kind: l.kind, name: l.name, stride: l.stride, w: tf.variable(l.mask ? tf.mul(l.w, l.mask) : l.w.clone(), false, `${prefix}/${l.name}/w`), b: tf.variable(l.b.clone(), false, `${prefix}/${l.name}/b`) };
    }
    if (l.kind === 'bn') throw new Error('fold BatchNorm before cloning');
    if (l.kind === 'relu') return { kind: 'relu', name: l.name, observer: new RangeObserver() };
    return l;
  });
  return { inputShape: net.inputShape, layers, inputObserver: new RangeObserver(), quantized: false };
}
