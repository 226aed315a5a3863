// The trained network as an ONNX graph (WriterModel). Quantized nets come out in QDQ form:
// packed integer weights (int8 per channel, int4 blocked) behind DequantizeLinear, and a
// QuantizeLinear/DequantizeLinear pair with the EMA-calibrated uint8 range wherever the training
// forward pass fake-quantized an activation. Images go in as NCHW (ONNX convention); TF.js
// trained NHWC, so conv weights are transposed and a Transpose restores NHWC order before Flatten
// (which keeps dense weights, and their int4 blocks, exactly as trained).
import * as tf from '@tensorflow/tfjs';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { quantizeWeight } from '../train/fake-quant.ts';
import type { Net, ParamLayer } from '../train/net.ts';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';

export interface Builder {
  nodes: WriterNode[];
  inits: Map<string, AnyTensor>;
  n: number;
}

export function fresh(b: Builder, base: string): string {
  return `${base}_${b.n++}`;
}

/** Weight data in ONNX layout: conv [kh, kw, ci, co] -> [co, ci, kh, kw]; dense [k, n] stays. */
function onnxLayout(t: tf.Tensor, kind: ParamLayer['kind']): { data: Float32Array; dims: number[] } {
  return tf.tidy(() => {
    const out = kind === 'conv' ? tf.transpose(t, [3, 2, 0, 1]) : t;
    return { data: out.dataSync() as Float32Array, dims: out.shape };
  });
}

/** The weight input of a conv/dense node: a float initializer, or DequantizeLinear of packed integers. */
export function weightInput(b: Builder, l: ParamLayer, quantized: boolean): string {
  const name = `${l.name}.weight`;
  const w = l.mask ? tf.mul(l.w, l.mask) : l.w;
  try {
    if (!quantized || !l.scheme) {
      const { data, dims } = onnxLayout(w, l.kind);
      b.inits.set(name, new Tensor('float32', data, dims));
      return name;
    }
    const s = l.scheme;
    const { q, scale, dequantized } = quantizeWeight(w, s);
    const { data, dims } = onnxLayout(q, l.kind);
    const ints = Int8Array.from(data);
    const scaleData = scale.dataSync() as Float32Array;
    tf.dispose([q, scale, dequantized]);
    b.inits.set(`${name}.q`, new Tensor(s.bits === 4 ? 'int4' : 'int8', ints, dims));
    b.inits.set(`${name}.scale`, new Tensor('float32', Float32Array.from(scaleData), s.kind === 'block' ? scale.shape : [scaleData.length]));
    // per-channel: conv weights [co, ...] -> axis 0; MatMul weights [k, n] -> axis 1 (output columns)
    const attrs: Record<string, number> = s.kind === 'block' ? { axis: 0, block_size: s.blockSize } : { axis: l.kind === 'conv' ? 0 : 1 };
    b.nodes.push({ opType: 'DequantizeLinear', name: `${l.name}.dequantize`, inputs: [`${name}.q`, `${name}.scale`], outputs: [name], attrs });
    return name;
  } finally {
    if (w !== l.w) w.dispose();
  }
}

function quantDequant(b: Builder, x: string, scale: number, zeroPoint: number, base: string): string {
  const s = `${base}.act_scale`;
  const z = `${base}.act_zero_point`;
  b.inits.set(s, new Tensor('float32', new Float32Array([scale]), []));
  b.inits.set(z, new Tensor('uint8', new Uint8Array([zeroPoint]), []));
  const q = fresh(b, `${base}.q`);
  const dq = fresh(b, `${base}.dq`);
  b.nodes.push({ opType: 'QuantizeLinear', name: `${base}.quantize`, inputs: [x, s, z], outputs: [q] });
  b.nodes.push({ opType: 'DequantizeLinear', name: `${base}.dequantize_act`, inputs: [q, s, z], outputs: [dq] });
  return dq;
}

/** TF.js 'same' padding: the extra row/column goes at the end (ONNX SAME_UPPER), written out explicitly. */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export interface ExportOptions {
  /** export the fake-quantized (QDQ) model; false = the float weights as trained (masked) */
  readonly quantized: boolean;
  readonly producer?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export function netToOnnx(net: Net, opts: ExportOptions): WriterModel {
  const b: Builder = { nodes: [], inits: new Map(), n: 0 };
  const image = net.inputShape.length === 3;
  // spatial [h, w, c] while the tensor is an image, then [features]
  let shape = [...net.inputShape];
  let h = INPUT_NAME;
  if (opts.quantized) {
    const p = net.inputObserver.params();
    h = quantDequant(b, h, p.scale, p.zeroPoint, 'input');
  }
  const last = net.layers.length - 1;
  net.layers.forEach((l, i) => {
    const out = i === last ? OUTPUT_NAME : fresh(b, l.name);
    switch (l.kind) {
      case 'conv': {
        const [kh, kw, , co] = l.w.shape as [number, number, number, number];
        const [pt, pb] = samePads(shape[0]!, kh, l.stride);
        const [pl, pr] = samePads(shape[1]!, kw, l.stride);
        const bias = `${l.name}.bias`;
        b.inits.set(bias, new Tensor('float32', Float32Array.from(l.b.dataSync()), [co]));
        b.nodes.push({
          opType: 'Conv', name: l.name, inputs: [h, weightInput(b, l, opts.quantized), bias], outputs: [out],
          attrs: { kernel_shape: [kh, kw], strides: [l.stride, l.stride], pads: [pt, pl, pb, pr], dilations: [1, 1], group: 1 },
        });
        shape = [Math.ceil(shape[0]! / l.stride), Math.ceil(shape[1]! / l.stride), co];
        break;
      }
      case 'dense': {
        const mm = fresh(b, `${l.name}.matmul`);
        const bias = `${l.name}.bias`;
        b.inits.set(bias, new Tensor('float32', Float32Array.from(l.b.dataSync()), [l.b.shape[0]!]));
        b.nodes.push({ opType: 'MatMul', name: `${l.name}.matmul`, inputs: [h, weightInput(b, l, opts.quantized)], outputs: [mm] });
        b.nodes.push({ opType: 'Add', name: `${l.name}.add`, inputs: [mm, bias], outputs: [out] });
        shape = [l.b.shape[0]!];
        break;
      }
      case 'relu': {
        b.nodes.push({ opType: 'Relu', name: l.name, inputs: [h], outputs: [out] });
        if (opts.quantized) {
          const p = l.observer.params();
          h = quantDequant(b, out, p.scale, p.zeroPoint, l.name);
          return;
        }
        break;
      }
      case 'maxpool':
        b.nodes.push({ opType: 'MaxPool', name: l.name, inputs: [h], outputs: [out], attrs: { kernel_shape: [l.size, l.size], strides: [l.size, l.size] } });
        shape = [Math.floor(shape[0]! / l.size), Math.floor(shape[1]! / l.size), shape[2]!];
        break;
      case 'flatten': {
        let src = h;
        if (shape.length === 3 && shape[2]! > 1) {
          src = fresh(b, `${l.name}.nhwc`);
          b.nodes.push({ opType: 'Transpose', name: `${l.name}.to_nhwc`, inputs: [h], outputs: [src], attrs: { perm: [0, 2, 3, 1] } });
        }
        b.nodes.push({ opType: 'Flatten', name: l.name, inputs: [src], outputs: [out], attrs: { axis: 1 } });
        shape = [shape.reduce((a, c) => a * c, 1)];
        break;
      }
      case 'bn':
        throw new Error(`${l.name}: fold BatchNorm before exporting`);
    }
    h = out;
  });
  const usesInt4 = [...b.inits.values()].some((t) => t.type === 'int4');
  const inputDims = image ? ['N', net.inputShape[2]!, net.inputShape[0]!, net.inputShape[1]!] : ['N', net.inputShape[0]!];
  return {
    nodes: b.nodes,
    inputs: [{ name: INPUT_NAME, dtype: 'float32', dims: inputDims }],
    outputs: [{ name: OUTPUT_NAME, dtype: 'float32', dims: ['N', shape[0]!] }],
    initializers: b.inits,
    // blocked DequantizeLinear and int4 need opset 21; per-axis DequantizeLinear needs 13
    opsets: { '': usesInt4 ? 21 : 13 },
    producer: opts.producer ?? 'kiln train',
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  };
}

/** NHWC rows (as trained) -> NCHW (the exported model's input layout); a copy only when C > 1. */
export function toNchw(x: Float32Array, n: number, sampleShape: readonly number[]): Float32Array {
  if (sampleShape.length !== 3 || sampleShape[2] === 1) return x;
  const [hh, ww, c] = sampleShape as [number, number, number];
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let p = 0; p < hh * ww; p++) for (let k = 0; k < c; k++) out[i * hh * ww * c + k * hh * ww + p] = x[i * hh * ww * c + p * c + k]!;
  return out;
}
