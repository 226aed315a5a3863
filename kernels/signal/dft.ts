import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostInts, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * DFT (opsets 17 and 20) and STFT (17). Signals are real ([..., 1]) or complex ([..., 2]: real,
 * imaginary); results are complex. The reference is the definition, one sum per output bin:
 * X[k] = sum_n x[n] e^(-2 pi i k n / L) (inverse: e^(+...) / L), with x zero-padded or cut to L.
 * Angles use (k n mod L), so long transforms keep their precision. With both inverse and onesided
 * the input is the first bins of a Hermitian spectrum and the result is real (numpy's irfft, as
 * the ONNX tests expect): the missing bins are the conjugates of the given ones, the length is
 * dft_length or 2 (bins - 1), and the output's last axis is 1.
 */

export interface DftLayout {
  readonly out: TensorMeta;
  /** elements before the axis, along it (input), after it (excluding the complex axis) */
  readonly outer: number;
  readonly n: number;
  readonly inner: number;
  /** 1: real input, 2: complex */
  readonly channels: number;
  /** transform length and bins written */
  readonly length: number;
  readonly bins: number;
  readonly inverse: boolean;
  /** inverse of a one-sided spectrum: real output, `length` samples from the given bins */
  readonly realOutput: boolean;
}

function scalarInput(inputs: readonly MaybeMeta[], slot: number, ctx: KernelContext, what: string): number | undefined {
  const m = inputs[slot];
  if (!m) return undefined;
  requireType(m, ['int32', 'int64'], ctx, what);
  if (product(m.dims) !== 1 || m.dims.length > 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must be a scalar, got dims [${m.dims.join(', ')}]`);
  const v = hostInts(ctx, slot);
  if (!v) return fail('INVALID_GRAPH', `node '${ctx.node}': the value of ${what} must be known`);
  return v[0]!;
}

function signalInput(inputs: readonly MaybeMeta[], ctx: KernelContext, opType: string): TensorMeta {
  const x = requireInput(inputs, 0, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'input');
  const c = x.dims[x.dims.length - 1];
  if (x.dims.length < 2 || (c !== 1 && c !== 2)) fail('INVALID_GRAPH', `node '${ctx.node}': ${opType} input must end in an axis of 1 (real) or 2 (complex), got dims [${x.dims.join(', ')}]`);
  return x;
}

export function dftLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): DftLayout {
  const x = signalInput(inputs, ctx, 'DFT');
  const r = x.dims.length;
  const rawAxis = ctx.opset >= 20 ? (scalarInput(inputs, 2, ctx, 'axis') ?? -2) : ctx.attrs.int('axis', 1);
  const axis = rawAxis < 0 ? rawAxis + r : rawAxis;
  if (axis < 0 || axis >= r - 1) fail('INVALID_GRAPH', `node '${ctx.node}': DFT axis ${rawAxis} is out of range for rank ${r} (the last axis holds real/imaginary parts)`);
  const onesided = ctx.attrs.int('onesided', 0) !== 0;
  const inverse = ctx.attrs.int('inverse', 0) !== 0;
  const realOutput = onesided && inverse;
  const length = scalarInput(inputs, 1, ctx, 'dft_length') ?? (realOutput ? 2 * (x.dims[axis]! - 1) : x.dims[axis]!);
  if (!(length >= 1)) fail('INVALID_GRAPH', `node '${ctx.node}': DFT length ${length} must be >= 1`);
  // irfft writes `length` samples; a forward onesided transform the bins up to Nyquist
  const bins = realOutput ? length : onesided ? Math.floor(length / 2) + 1 : length;
  const dims = [...x.dims];
  dims[axis] = bins;
  dims[r - 1] = realOutput ? 1 : 2;
  return {
    out: { dtype: x.dtype, dims },
    outer: product(x.dims, 0, axis),
    n: x.dims[axis]!,
    inner: product(x.dims, axis + 1, r - 1),
    channels: x.dims[r - 1]!,
    length,
    bins,
    inverse,
    realOutput,
  };
}

/**
 * Sample t of the inverse of a one-sided spectrum (`at(k)`: given bin k, `bins` of them), the
 * spectrum completed by conjugate symmetry: bins past length/2 mirror the ones below.
 */
export function irfftSample(t: number, length: number, bins: number, at: (k: number) => [number, number]): number {
  const half = Math.floor(length / 2);
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const mirrored = k > half;
    const j = mirrored ? length - k : k;
    if (j >= bins) continue;
    const [re, imRaw] = at(j);
    const im = mirrored ? -imRaw : imRaw;
    const theta = (2 * Math.PI * ((k * t) % length)) / length;
    sum += re * Math.cos(theta) - im * Math.sin(theta);
  }
  return sum / length;
}

/** Bin k of the transform of one line: `at(n)` gives sample n as [re, im]. */
export function dftBin(k: number, length: number, samples: number, at: (n: number) => [number, number], inverse: boolean): [number, number] {
  let re = 0;
  let im = 0;
  const sign = inverse ? 1 : -1;
  for (let n = 0; n < Math.min(samples, length); n++) {
    const theta = (2 * Math.PI * ((k * n) % length)) / length;
    const c = Math.cos(theta);
    const s = sign * Math.sin(theta);
    const [xr, xi] = at(n);
    re += xr * c - xi * s;
    im += xr * s + xi * c;
  }
  return inverse ? [re / length, im / length] : [re, im];
}

const dft: OpDefinition = {
  opType: 'DFT',
  hostInputs: [1, 2],
  inferOutputs: (inputs, ctx) => [dftLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const x = inputs[0]!;
    const L = dftLayout(inputs.map((t) => t && metaOf(t)), ctx);
    const v = toNumbers(x);
    const res = new Float64Array(product(L.out.dims));
    for (let o = 0; o < L.outer; o++) {
      for (let i = 0; i < L.inner; i++) {
        const at = (n: number): [number, number] => {
          const e = ((o * L.n + n) * L.inner + i) * L.channels;
          return [v[e]!, L.channels === 2 ? v[e + 1]! : 0];
        };
        if (L.realOutput) {
          for (let t = 0; t < L.bins; t++) res[(o * L.bins + t) * L.inner + i] = irfftSample(t, L.length, L.n, at);
          continue;
        }
        for (let k = 0; k < L.bins; k++) {
          const [re, im] = dftBin(k, L.length, L.n, at, L.inverse);
          const e = ((o * L.bins + k) * L.inner + i) * 2;
          res[e] = re;
          res[e + 1] = im;
        }
      }
    }
    return [fromNumbers(L.out.dtype, L.out.dims, res)];
  },
};

// ---- STFT: frames of frame_length samples every frame_step, each times the window, transformed.

export interface StftLayout {
  readonly out: TensorMeta;
  readonly batch: number;
  readonly signal: number;
  readonly channels: number;
  readonly step: number;
  readonly frames: number;
  readonly frameLength: number;
  readonly bins: number;
  readonly windowed: boolean;
}

export function stftLayout(inputs: readonly MaybeMeta[], ctx: KernelContext): StftLayout {
  const x = signalInput(inputs, ctx, 'STFT');
  if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': STFT signal must be [batch, length, 1 or 2], got dims [${x.dims.join(', ')}]`);
  const step = scalarInput(inputs, 1, ctx, 'frame_step');
  if (step === undefined || step < 1) return fail('INVALID_GRAPH', `node '${ctx.node}': STFT frame_step must be given and >= 1`);
  const window = inputs[2];
  if (window) {
    requireType(window, [x.dtype], ctx, 'window');
    if (window.dims.length !== 1) fail('INVALID_GRAPH', `node '${ctx.node}': STFT window must be 1-D, got dims [${window.dims.join(', ')}]`);
  }
  const given = scalarInput(inputs, 3, ctx, 'frame_length');
  const frameLength = given ?? window?.dims[0];
  if (frameLength === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': STFT needs a window or a frame_length`);
  if (window && window.dims[0] !== frameLength) fail('INVALID_GRAPH', `node '${ctx.node}': STFT window length ${window.dims[0]} differs from frame_length ${frameLength}`);
  const signal = x.dims[1]!;
  if (frameLength < 1 || frameLength > signal) fail('INVALID_GRAPH', `node '${ctx.node}': STFT frame_length ${frameLength} must be in [1, ${signal}] (the signal length)`);
  const onesided = ctx.attrs.int('onesided', 1) !== 0;
  if (onesided && x.dims[2] === 2) fail('INVALID_GRAPH', `node '${ctx.node}': STFT of a complex signal cannot be onesided`);
  const frames = Math.floor((signal - frameLength) / step) + 1;
  const bins = onesided ? Math.floor(frameLength / 2) + 1 : frameLength;
  return {
    out: { dtype: x.dtype, dims: [x.dims[0]!, frames, bins, 2] },
    batch: x.dims[0]!,
    signal,
    channels: x.dims[2]!,
    step,
    frames,
    frameLength,
    bins,
    windowed: window !== undefined,
  };
}

const stft: OpDefinition = {
  opType: 'STFT',
  hostInputs: [1, 3],
  inferOutputs: (inputs, ctx) => [stftLayout(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const L = stftLayout(inputs.map((t) => t && metaOf(t)), ctx);
    const v = toNumbers(inputs[0]!);
    const w = inputs[2] ? toNumbers(inputs[2]) : undefined;
    const res = new Float64Array(product(L.out.dims));
    for (let b = 0; b < L.batch; b++) {
      for (let f = 0; f < L.frames; f++) {
        const at = (n: number): [number, number] => {
          const e = (b * L.signal + f * L.step + n) * L.channels;
          const g = w ? w[n]! : 1;
          return [v[e]! * g, L.channels === 2 ? v[e + 1]! * g : 0];
        };
        for (let k = 0; k < L.bins; k++) {
          const [re, im] = dftBin(k, L.frameLength, L.frameLength, at, false);
          const e = ((b * L.frames + f) * L.bins + k) * 2;
          res[e] = re;
          res[e + 1] = im;
        }
      }
    }
    return [fromNumbers(L.out.dtype, L.out.dims, res)];
  },
};

export const definitions: readonly OpDefinition[] = [dft, stft];
