import type { AnyTensor } from '../../core/tensor.ts';
import { dataTypeFromOnnx, type DataType } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, NUMERIC_TYPES, product, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, hostFloats, hostInts, metaOf } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';

/**
 * The window generators (HannWindow, HammingWindow, BlackmanWindow) and MelWeightMatrix: tensors
 * computed from scalar inputs alone. Their inputs are host inputs, so the whole node runs once at
 * plan time when they are constants (as exporters write them) and on the CPU otherwise: a GPU
 * kernel would only compute a few hundred cosines.
 */

function outputType(ctx: KernelContext): DataType {
  const t = dataTypeFromOnnx(ctx.attrs.int('output_datatype', 1), `node '${ctx.node}'`);
  if (!(NUMERIC_TYPES as readonly string[]).includes(t)) fail('INVALID_GRAPH', `node '${ctx.node}': output_datatype ${t} is not numeric`);
  return t;
}

function scalarValue(inputs: readonly MaybeMeta[], slot: number, ctx: KernelContext, what: string, types: readonly string[], floats = false): number {
  const m = requireInput(inputs, slot, ctx);
  requireType(m, types, ctx, what);
  if (product(m.dims) !== 1 || m.dims.length > 1) fail('INVALID_GRAPH', `node '${ctx.node}': ${what} must be a scalar, got dims [${m.dims.join(', ')}]`);
  const v = floats ? hostFloats(ctx, slot) : hostInts(ctx, slot);
  if (!v) return fail('INVALID_GRAPH', `node '${ctx.node}': the value of ${what} must be known`);
  return v[0]!;
}

type Window = (n: number, period: number) => number;

const cosTerm = (k: number, n: number, period: number): number => Math.cos((2 * Math.PI * k * n) / period);
const WINDOWS: Readonly<Record<string, Window>> = {
  HannWindow: (n, p) => 0.5 - 0.5 * cosTerm(1, n, p),
  HammingWindow: (n, p) => 25 / 46 - (21 / 46) * cosTerm(1, n, p),
  BlackmanWindow: (n, p) => 0.42 - 0.5 * cosTerm(1, n, p) + 0.08 * cosTerm(2, n, p),
};

function windowMeta(inputs: readonly MaybeMeta[], ctx: KernelContext): TensorMeta {
  const size = scalarValue(inputs, 0, ctx, 'size', ['int32', 'int64']);
  if (size < 0) fail('INVALID_GRAPH', `node '${ctx.node}': window size ${size} is negative`);
  return { dtype: outputType(ctx), dims: [size] };
}

function windowDefinition(opType: string, w: Window): OpDefinition {
  return {
    opType,
    hostInputs: [0],
    inferOutputs: (inputs, ctx) => [windowMeta(inputs, ctx)],
    reference(inputs, ctx): AnyTensor[] {
      const out = windowMeta(inputs.map((t) => t && metaOf(t)), ctx);
      const size = out.dims[0]!;
      // periodic windows repeat with period `size` (for spectral analysis); symmetric ones end where they start
      const period = ctx.attrs.int('periodic', 1) !== 0 ? size : size - 1;
      return [fromNumbers(out.dtype, out.dims, Array.from({ length: size }, (_, n) => w(n, period)))];
    },
  };
}

// ---- MelWeightMatrix: triangular filters, evenly spaced in mel, over the bins of a one-sided DFT
// (the ONNX reference's formula, bin edges floored to whole bins).

interface MelParams {
  readonly bins: number;
  readonly dftLength: number;
  readonly rate: number;
  readonly low: number;
  readonly high: number;
}

function melParams(inputs: readonly MaybeMeta[], ctx: KernelContext): { out: TensorMeta; p: MelParams } {
  const ints = ['int32', 'int64'];
  const bins = scalarValue(inputs, 0, ctx, 'num_mel_bins', ints);
  const dftLength = scalarValue(inputs, 1, ctx, 'dft_length', ints);
  const rate = scalarValue(inputs, 2, ctx, 'sample_rate', ints);
  const low = scalarValue(inputs, 3, ctx, 'lower_edge_hertz', FLOAT_TYPES, true);
  const high = scalarValue(inputs, 4, ctx, 'upper_edge_hertz', FLOAT_TYPES, true);
  if (bins < 1 || dftLength < 1 || rate < 1) fail('INVALID_GRAPH', `node '${ctx.node}': MelWeightMatrix needs num_mel_bins, dft_length and sample_rate >= 1 (got ${bins}, ${dftLength}, ${rate})`);
  if (!(low >= 0 && high > low)) fail('INVALID_GRAPH', `node '${ctx.node}': MelWeightMatrix edges must satisfy 0 <= lower (${low}) < upper (${high})`);
  return { out: { dtype: outputType(ctx), dims: [Math.floor(dftLength / 2) + 1, bins] }, p: { bins, dftLength, rate, low, high } };
}

const melWeightMatrix: OpDefinition = {
  opType: 'MelWeightMatrix',
  hostInputs: [0, 1, 2, 3, 4],
  inferOutputs: (inputs, ctx) => [melParams(inputs, ctx).out],
  reference(inputs, ctx): AnyTensor[] {
    const { out, p } = melParams(inputs.map((t) => t && metaOf(t)), ctx);
    const toMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
    const lowMel = toMel(p.low);
    const step = (toMel(p.high) - lowMel) / (p.bins + 2);
    const edges = Array.from({ length: p.bins + 2 }, (_, i) => {
      const hz = 700 * (10 ** ((i * step + lowMel) / 2595) - 1);
      return Math.floor(((p.dftLength + 1) * hz) / p.rate);
    });
    const [rows, cols] = out.dims as [number, number];
    const res = new Float64Array(rows * cols);
    // an upper edge above the Nyquist frequency reaches past the last bin: those weights fall off the matrix
    const set = (j: number, m: number, v: number): void => {
      if (j < rows) res[j * cols + m] = v;
    };
    for (let m = 0; m < cols; m++) {
      const [left, center, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
      if (center === left) set(center, m, 1);
      else for (let j = left; j <= center; j++) set(j, m, (j - left) / (center - left));
      for (let j = center; j < right; j++) set(j, m, (right - j) / (right - center));
    }
    return [fromNumbers(out.dtype, out.dims, res)];
  },
};

export const definitions: readonly OpDefinition[] = [...Object.entries(WINDOWS).map(([op, w]) => windowDefinition(op, w)), melWeightMatrix];
