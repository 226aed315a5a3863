// Fake quantization for quantization-aware training: the forward pass sees exactly the values the
// exported model computes (integer weights times their scales; activations rounded onto the uint8
// grid of QuantizeLinear), the backward pass uses the straight-through estimator (identity inside
// the representable range, zero outside). The integer weights exported are computed by the same
// functions, so the bundle holds the weights that were evaluated, bit for bit.
import * as tf from '@tensorflow/tfjs';

export type WeightBits = 8 | 4;

/** How one weight tensor is quantized. TF.js layouts: conv [kh, kw, ci, co], dense [k, n]; the output channel is the last axis. */
export type WeightScheme =
  /** one symmetric scale per output channel */
  | { readonly kind: 'per-channel'; readonly bits: WeightBits }
  /** dense only: one symmetric scale per `blockSize` rows of k, per output column */
  | { readonly kind: 'block'; readonly bits: WeightBits; readonly blockSize: number };

export const qmaxOf = (bits: WeightBits): number => (1 << (bits - 1)) - 1; // symmetric: int8 [-127, 127], int4 [-7, 7]

export interface QuantizedWeight {
  /** integers as float32, same shape as the weight */
  readonly q: tf.Tensor;
  /** per-channel: [co]; block: [ceil(k / blockSize), n] */
  readonly scale: tf.Tensor;
  /** q * scale, the weight the forward pass uses */
  readonly dequantized: tf.Tensor;
}

// Smallest scale used: an all-zero channel (fully pruned) still gets a finite, positive scale.
const MIN_SCALE = 1e-8;

export function quantizeWeight(w: tf.Tensor, scheme: WeightScheme): QuantizedWeight {
  return tf.tidy(() => {
    const qmax = qmaxOf(scheme.bits);
    if (scheme.kind === 'per-channel') {
      const axes = w.shape.map((_, i) => i).slice(0, -1);
      const scale = tf.maximum(tf.div(tf.max(tf.abs(w), axes), qmax), MIN_SCALE);
      const q = tf.clipByValue(tf.round(tf.div(w, scale)), -qmax, qmax);
      return { q, scale, dequantized: tf.mul(q, scale) };
    }
    if (w.rank !== 2) throw new Error(`block quantization needs a 2-D [k, n] weight, got rank ${w.rank}`);
    const [k, n] = w.shape as [number, number];
    const b = scheme.blockSize;
    const blocks = Math.ceil(k / b);
    const padded = blocks * b === k ? w : tf.pad(w, [[0, blocks * b - k], [0, 0]]);
    const scale = tf.maximum(tf.div(tf.max(tf.abs(tf.reshape(padded, [blocks, b, n])), 1), qmax), MIN_SCALE); // [blocks, n]
    const expanded = tf.slice(tf.reshape(tf.tile(tf.expandDims(scale, 1), [1, b, 1]), [blocks * b, n]), [0, 0], [k, n]);
    const q = tf.clipByValue(tf.round(tf.div(w, expanded)), -qmax, qmax);
    return { q, scale, dequantized: tf.mul(q, expanded) };
  });
}

/** Forward: the dequantized weight; backward: the gradient passes straight through (the scale follows max |w|, so nothing is ever clipped). */
export function fakeQuantWeight(w: tf.Tensor, scheme: WeightScheme): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const { q, scale, dequantized } = quantizeWeight(x, scheme);
    q.dispose();
    scale.dispose();
    return { value: dequantized, gradFunc: (dy: tf.Tensor) => dy };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(w);
}

/** uint8 asymmetric activation quantization, as ONNX QuantizeLinear with a uint8 zero point. */
export interface ActivationParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Scale and zero point covering [min, max] (widened to include 0 so zero stays exact, e.g. after ReLU and padding). */
export function activationParams(min: number, max: number): ActivationParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = Math.fround(Math.max(hi - lo, 1e-6) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Forward: (clip(round(x / s) + z, 0, 255) - z) * s; backward: dy where x is inside the grid's range, else 0. */
export function fakeQuantActivation(x: tf.Tensor, p: ActivationParams): tf.Tensor {
  const lo = (0 - p.zeroPoint) * p.scale;
  const hi = (255 - p.zeroPoint) * p.scale;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(input, p.scale)), p.zeroPoint), 0, 255), p.zeroPoint), p.scale));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inside = tf.logicalAnd(tf.greaterEqual(saved[0]!, lo), tf.lessEqual(saved[0]!, hi));
        return tf.mul(dy, tf.cast(inside, 'float32'));
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}

/**
 * Tracks an activation's range with an exponential moving average of per-batch min and max
 * (the usual QAT calibration). Quantization uses the range from before the current batch.
 */
export class RangeObserver {
  min = 0;
  max = 0;
  seen = 0;
  frozen = false;
  constructor(readonly momentum = 0.99) {}

  update(batchMin: number, batchMax: number): void {
    if (this.frozen) return;
    if (this.seen === 0) {
      this.min = batchMin;
      this.max = batchMax;
    } else {
      this.min = this.momentum * this.min + (1 - this.momentum) * batchMin;
      this.max = this.momentum * this.max + (1 - this.momentum) * batchMax;
    }
    this.seen++;
  }

  params(): ActivationParams {
    return activationParams(this.min, this.max);
  }
}
