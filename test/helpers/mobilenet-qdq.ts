// A small MobileNetV3-like network (stem conv + HardSwish, depthwise blocks, squeeze-excite with
// GlobalAveragePool / HardSigmoid / Mul, Add residuals, a final Gemm), BatchNorm already folded,
// random weights from a seeded generator, written twice with runtime/format/onnx/onnx-writer.ts:
// - float, with every activation also a graph output (to calibrate on onnxruntime-web);
// - QDQ in onnxruntime's quantize_static patterns: int8 per-channel symmetric weights, int32 biases
//   with scale x_scale * w_scale[c], uint8 asymmetric activations (min/max calibrated), every
//   activation T -> QuantizeLinear -> DequantizeLinear, Conv + Relu folded into the Conv's output
//   quantization (zero point 0, as the quantizer removes a Relu that follows a quantized Conv),
//   Reshape's output sharing its input's parameters (so onnxruntime drops its Q/DQ).
// No model hub is reachable from this machine, so this stands in for a real exported MobileNetV3.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { createRng, type Rng } from '../../trainer-node/data/rng.ts';

export const MOBILENET_INPUT = [1, 3, 48, 48] as const;
export const MOBILENET_CLASSES = 100;

type Op =
  | { kind: 'conv'; x: string; y: string; w: string; b: string; stride: number; group: number; k: number; relu: boolean }
  | { kind: 'unary'; op: 'HardSwish' | 'HardSigmoid'; x: string; y: string }
  | { kind: 'binary'; op: 'Add' | 'Mul'; a: string; b: string; y: string }
  | { kind: 'gap'; x: string; y: string }
  | { kind: 'reshape'; x: string; y: string; shape: string }
  | { kind: 'gemm'; x: string; y: string; w: string; b: string };

export interface MobileNet {
  readonly ops: readonly Op[];
  readonly weights: ReadonlyMap<string, Tensor<'float32'>>;
}

const normal = (rng: Rng): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());

/** The network's layers and float weights, drawn from `seed`. */
export function buildMobileNet(seed: number): MobileNet {
  const rng = createRng(seed);
  const ops: Op[] = [];
  const weights = new Map<string, Tensor<'float32'>>();
  let n = 0;
  const name = (p: string): string => `${p}${n++}`;
  const param = (dims: number[], std: number): string => {
    const id = name('p');
    const size = dims.reduce((a, b) => a * b, 1);
    weights.set(id, new Tensor('float32', Float32Array.from({ length: size }, () => Math.fround(normal(rng) * std)), dims));
    return id;
  };
  const conv = (x: string, cin: number, cout: number, k: number, stride: number, dw: boolean, relu: boolean): string => {
    const y = name('t');
    const fanIn = (dw ? 1 : cin) * k * k;
    ops.push({ kind: 'conv', x, y, w: param([cout, dw ? 1 : cin, k, k], Math.sqrt(2 / fanIn)), b: param([cout], 0.1), stride, group: dw ? cin : 1, k, relu });
    return y;
  };
  const unary = (op: 'HardSwish' | 'HardSigmoid', x: string): string => {
    const y = name('t');
    ops.push({ kind: 'unary', op, x, y });
    return y;
  };
  const binary = (op: 'Add' | 'Mul', a: string, b: string): string => {
    const y = name('t');
    ops.push({ kind: 'binary', op, a, b, y });
    return y;
  };
  const squeezeExcite = (x: string, c: number): string => {
    const g = name('t');
    ops.push({ kind: 'gap', x, y: g });
    const s = conv(conv(g, c, Math.max(8, c / 4), 1, 1, false, true), Math.max(8, c / 4), c, 1, 1, false, false);
    return binary('Mul', x, unary('HardSigmoid', s));
  };
  const block = (x: string, cin: number, expand: number, cout: number, stride: number, se: boolean, hs: boolean): string => {
    const act = (t: string): string => (hs ? unary('HardSwish', t) : t);
    let t = expand === cin ? x : act(conv(x, cin, expand, 1, 1, false, !hs));
    t = act(conv(t, expand, expand, 3, stride, true, !hs));
    if (se) t = squeezeExcite(t, expand);
    t = conv(t, expand, cout, 1, 1, false, false);
    return stride === 1 && cin === cout ? binary('Add', x, t) : t;
  };
  let t = unary('HardSwish', conv('x', 3, 16, 3, 2, false, false));
  t = block(t, 16, 16, 16, 1, true, false);
  t = block(t, 16, 48, 24, 2, false, false);
  t = block(t, 24, 72, 24, 1, false, false);
  t = block(t, 24, 72, 40, 2, true, true);
  t = block(t, 40, 120, 40, 1, true, true);
  t = unary('HardSwish', conv(t, 40, 240, 1, 1, false, false));
  const g = name('t');
  ops.push({ kind: 'gap', x: t, y: g });
  const flat = name('t');
  ops.push({ kind: 'reshape', x: g, y: flat, shape: 'flat_shape' });
  ops.push({ kind: 'gemm', x: flat, y: 'logits', w: param([MOBILENET_CLASSES, 240], Math.sqrt(2 / 240)), b: param([MOBILENET_CLASSES], 0.1) });
  return { ops, weights };
}

const FLAT_SHAPE = new Tensor('int64', BigInt64Array.from([1n, -1n]), [2]);
const OPSETS = { '': 17 };
const HARD_SIGMOID = { alpha: { float: 1 / 6 }, beta: { float: 0.5 } };

/** Every activation the network produces, in order (the calibration set). */
export function activationNames(net: MobileNet): string[] {
  return ['x', ...net.ops.map((o) => o.y)];
}

/** The float model; every activation is also an output so one run calibrates all of them (unless `allOutputs` is false: logits only, for benches). */
export function floatModel(net: MobileNet, allOutputs = true): Uint8Array {
  const nodes: WriterNode[] = [];
  for (const o of net.ops) {
    if (o.kind === 'conv') {
      const convOut = o.relu ? `${o.y}_pre` : o.y;
      nodes.push({ opType: 'Conv', inputs: [o.x, o.w, o.b], outputs: [convOut], attrs: { kernel_shape: [o.k, o.k], strides: [o.stride, o.stride], pads: Array(4).fill(o.k >> 1), group: o.group } });
      if (o.relu) nodes.push({ opType: 'Relu', inputs: [convOut], outputs: [o.y] });
    } else if (o.kind === 'unary') nodes.push({ opType: o.op, inputs: [o.x], outputs: [o.y], attrs: o.op === 'HardSigmoid' ? HARD_SIGMOID : {} });
    else if (o.kind === 'binary') nodes.push({ opType: o.op, inputs: [o.a, o.b], outputs: [o.y] });
    else if (o.kind === 'gap') nodes.push({ opType: 'GlobalAveragePool', inputs: [o.x], outputs: [o.y] });
    else if (o.kind === 'reshape') nodes.push({ opType: 'Reshape', inputs: [o.x, o.shape], outputs: [o.y] });
    else nodes.push({ opType: 'Gemm', inputs: [o.x, o.w, o.b], outputs: [o.y], attrs: { transB: 1 } });
  }
  const inits: Record<string, AnyTensor> = Object.fromEntries(net.weights);
  inits.flat_shape = FLAT_SHAPE;
  return encodeOnnxModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [...MOBILENET_INPUT] }],
    outputs: (allOutputs ? activationNames(net).slice(1) : ['logits']).map((name) => ({ name, dtype: 'float32' })),
    initializers: inits,
    opsets: OPSETS,
  });
}

export interface ActivationParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** uint8 asymmetric parameters covering [lo, hi] (and 0), as onnxruntime's MinMax calibrator. */
export function uint8Params(lo: number, hi: number): ActivationParams {
  const l = Math.min(lo, 0);
  const h = Math.max(hi, 0);
  const scale = Math.fround((h - l) / 255);
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-l / scale))) };
}

function quantizeWeight(w: Tensor<'float32'>): { q: Tensor<'int8'>; scales: Float32Array } {
  const cout = w.dims[0]!;
  const inner = w.size / cout;
  const scales = new Float32Array(cout);
  const q = new Int8Array(w.size);
  for (let c = 0; c < cout; c++) {
    let m = 0;
    for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(w.data[c * inner + i]!));
    scales[c] = m > 0 ? Math.fround(m / 127) : 1;
    for (let i = 0; i < inner; i++) q[c * inner + i] = Math.max(-127, Math.min(127, Math.round(w.data[c * inner + i]! / scales[c]!)));
  }
  return { q: new Tensor('int8', q, w.dims), scales };
}

/** The QDQ model, with `params` the calibrated uint8 parameters of every activation. */
export function qdqModel(net: MobileNet, params: ReadonlyMap<string, ActivationParams>): Uint8Array {
  const nodes: WriterNode[] = [];
  const inits: Record<string, AnyTensor> = { flat_shape: FLAT_SHAPE };
  const dq = (t: string): string => `${t}_dq`;
  const qdq = (t: string, out = dq(t)): void => {
    const p = params.get(t)!;
    inits[`${t}_s`] = new Tensor('float32', Float32Array.of(p.scale), []);
    inits[`${t}_zp`] = new Tensor('uint8', Uint8Array.of(p.zeroPoint), []);
    nodes.push({ opType: 'QuantizeLinear', inputs: [t, `${t}_s`, `${t}_zp`], outputs: [`${t}_q`] });
    nodes.push({ opType: 'DequantizeLinear', inputs: [`${t}_q`, `${t}_s`, `${t}_zp`], outputs: [out] });
  };
  const layerWeights = (x: string, w: string, b: string): [string, string] => {
    const { q, scales } = quantizeWeight(net.weights.get(w)!);
    const xs = params.get(x)!.scale;
    const bias = net.weights.get(b)!.data;
    const bs = Float32Array.from(scales, (s) => Math.fround(xs * s));
    inits[`${w}_q`] = q;
    inits[`${w}_s`] = new Tensor('float32', scales, [scales.length]);
    inits[`${b}_q`] = new Tensor('int32', Int32Array.from(bias, (v, c) => Math.round(v / bs[c]!)), [bias.length]);
    inits[`${b}_s`] = new Tensor('float32', bs, [bs.length]);
    nodes.push({ opType: 'DequantizeLinear', inputs: [`${w}_q`, `${w}_s`], outputs: [dq(w)], attrs: { axis: 0 } });
    nodes.push({ opType: 'DequantizeLinear', inputs: [`${b}_q`, `${b}_s`], outputs: [dq(b)], attrs: { axis: 0 } });
    return [dq(w), dq(b)];
  };
  qdq('x');
  for (const o of net.ops) {
    if (o.kind === 'conv') {
      const [w, b] = layerWeights(o.x, o.w, o.b);
      nodes.push({ opType: 'Conv', inputs: [dq(o.x), w, b], outputs: [o.y], attrs: { kernel_shape: [o.k, o.k], strides: [o.stride, o.stride], pads: Array(4).fill(o.k >> 1), group: o.group } });
    } else if (o.kind === 'unary') nodes.push({ opType: o.op, inputs: [dq(o.x)], outputs: [o.y], attrs: o.op === 'HardSigmoid' ? HARD_SIGMOID : {} });
    else if (o.kind === 'binary') nodes.push({ opType: o.op, inputs: [dq(o.a), dq(o.b)], outputs: [o.y] });
    else if (o.kind === 'gap') nodes.push({ opType: 'GlobalAveragePool', inputs: [dq(o.x)], outputs: [o.y] });
    else if (o.kind === 'reshape') nodes.push({ opType: 'Reshape', inputs: [dq(o.x), o.shape], outputs: [o.y] });
    else {
      const [w, b] = layerWeights(o.x, o.w, o.b);
      nodes.push({ opType: 'Gemm', inputs: [dq(o.x), w, b], outputs: [o.y], attrs: { transB: 1 } });
    }
    qdq(o.y, o.y === 'logits' ? 'logits_out' : dq(o.y));
  }
  return encodeOnnxModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', dims: [...MOBILENET_INPUT] }],
    outputs: [{ name: 'logits_out', dtype: 'float32', dims: [1, MOBILENET_CLASSES] }],
    initializers: inits,
    opsets: OPSETS,
  });
}

/** Min/max of every activation over `samples` float runs (onnxruntime-web computes them). */
export function calibrate(net: MobileNet, ranges: ReadonlyMap<string, readonly [number, number]>): Map<string, ActivationParams> {
  const params = new Map<string, ActivationParams>();
  for (const t of activationNames(net)) {
    const r = ranges.get(t)!;
    params.set(t, uint8Params(r[0], r[1]));
  }
  // Reshape keeps its input's parameters (onnxruntime's quantizer shares them so the Q/DQ around it drop)
  for (const o of net.ops) if (o.kind === 'reshape') params.set(o.y, params.get(o.x)!);
  return params;
}
