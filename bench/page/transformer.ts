// A small BERT-style encoder built deterministically from a seed: the ONNX graph in the pattern
// PyTorch/TF exporters emit (MatMul + Add, Reshape/Transpose into heads, MatMul/Div/Softmax
// attention, residual + LayerNormalization, Gelu feed-forward), and the same computation in TF.js
// with the same weights. Input: token embeddings [batch, seq, hidden] (no embedding lookup and no
// attention mask: every token attends to every token).
import type * as tfc from '@tensorflow/tfjs-core';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { hashString, seededRandom, uniform } from './seeded.ts';
import type { Tf, TfModel, Workload } from './workload.ts';

export interface EncoderConfig {
  readonly seq: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
}

interface LayerWeights {
  q: Float32Array; bq: Float32Array; k: Float32Array; bk: Float32Array; v: Float32Array; bv: Float32Array;
  o: Float32Array; bo: Float32Array; g1: Float32Array; b1: Float32Array;
  f1: Float32Array; bf1: Float32Array; f2: Float32Array; bf2: Float32Array; g2: Float32Array; b2: Float32Array;
}

const EPS = 1e-12;

function weights(c: EncoderConfig, seed: number): LayerWeights[] {
  const rand = seededRandom(seed);
  const h = c.hidden;
  // Xavier-like scales keep activations O(1) through the layers, like a trained model's.
  const sh = Math.sqrt(3 / h);
  const sf = Math.sqrt(3 / c.ffn);
  return Array.from({ length: c.layers }, () => ({
    q: uniform(rand, h * h, sh), bq: uniform(rand, h, 0.1), k: uniform(rand, h * h, sh), bk: uniform(rand, h, 0.1),
    v: uniform(rand, h * h, sh), bv: uniform(rand, h, 0.1), o: uniform(rand, h * h, sh), bo: uniform(rand, h, 0.1),
    g1: uniform(rand, h, 0.2).map((x) => 1 + x), b1: uniform(rand, h, 0.1),
    f1: uniform(rand, h * c.ffn, sh), bf1: uniform(rand, c.ffn, 0.1), f2: uniform(rand, c.ffn * h, sf), bf2: uniform(rand, h, 0.1),
    g2: uniform(rand, h, 0.2).map((x) => 1 + x), b2: uniform(rand, h, 0.1),
  }));
}

function onnxEncoder(c: EncoderConfig, ws: readonly LayerWeights[]): Uint8Array {
  const nodes: WriterNode[] = [];
  const inits: Record<string, Tensor> = {};
  const dh = c.hidden / c.heads;
  const f32 = (name: string, data: Float32Array, dims: number[]): string => {
    inits[name] = new Tensor('float32', data, dims);
    return name;
  };
  const i64 = (name: string, values: number[]): string => {
    inits[name] = new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);
    return name;
  };
  const headsShape = i64('heads_shape', [0, 0, c.heads, dh]);
  const mergedShape = i64('merged_shape', [0, 0, c.hidden]);
  const scale = f32('sqrt_dh', Float32Array.of(Math.sqrt(dh)), []);
  let x = 'embeddings';
  const dense = (p: string, input: string, w: Float32Array, b: Float32Array, inDim: number, outDim: number): string => {
    nodes.push({ opType: 'MatMul', inputs: [input, f32(`${p}.weight`, w, [inDim, outDim])], outputs: [`${p}.mm`] });
    nodes.push({ opType: 'Add', inputs: [`${p}.mm`, f32(`${p}.bias`, b, [outDim])], outputs: [`${p}.out`] });
    return `${p}.out`;
  };
  ws.forEach((w, l) => {
    const p = `layer${l}`;
    const q = dense(`${p}.q`, x, w.q, w.bq, c.hidden, c.hidden);
    const k = dense(`${p}.k`, x, w.k, w.bk, c.hidden, c.hidden);
    const v = dense(`${p}.v`, x, w.v, w.bv, c.hidden, c.hidden);
    for (const [name, perm] of [[q, [0, 2, 1, 3]], [k, [0, 2, 3, 1]], [v, [0, 2, 1, 3]]] as const) {
      nodes.push({ opType: 'Reshape', inputs: [name, headsShape], outputs: [`${name}.heads`] });
      nodes.push({ opType: 'Transpose', inputs: [`${name}.heads`], outputs: [`${name}.t`], attrs: { perm: [...perm] } });
    }
    nodes.push({ opType: 'MatMul', inputs: [`${q}.t`, `${k}.t`], outputs: [`${p}.scores`] });
    nodes.push({ opType: 'Div', inputs: [`${p}.scores`, scale], outputs: [`${p}.scaled`] });
    nodes.push({ opType: 'Softmax', inputs: [`${p}.scaled`], outputs: [`${p}.probs`], attrs: { axis: -1 } });
    nodes.push({ opType: 'MatMul', inputs: [`${p}.probs`, `${v}.t`], outputs: [`${p}.ctx`] });
    nodes.push({ opType: 'Transpose', inputs: [`${p}.ctx`], outputs: [`${p}.ctx.t`], attrs: { perm: [0, 2, 1, 3] } });
    nodes.push({ opType: 'Reshape', inputs: [`${p}.ctx.t`, mergedShape], outputs: [`${p}.ctx.merged`] });
    const attn = dense(`${p}.o`, `${p}.ctx.merged`, w.o, w.bo, c.hidden, c.hidden);
    nodes.push({ opType: 'Add', inputs: [x, attn], outputs: [`${p}.res1`] });
    nodes.push({ opType: 'LayerNormalization', inputs: [`${p}.res1`, f32(`${p}.ln1.g`, w.g1, [c.hidden]), f32(`${p}.ln1.b`, w.b1, [c.hidden])], outputs: [`${p}.ln1`], attrs: { axis: -1, epsilon: { float: EPS } } });
    const h = dense(`${p}.ffn1`, `${p}.ln1`, w.f1, w.bf1, c.hidden, c.ffn);
    nodes.push({ opType: 'Gelu', inputs: [h], outputs: [`${p}.gelu`] });
    const f = dense(`${p}.ffn2`, `${p}.gelu`, w.f2, w.bf2, c.ffn, c.hidden);
    nodes.push({ opType: 'Add', inputs: [`${p}.ln1`, f], outputs: [`${p}.res2`] });
    const out = l === ws.length - 1 ? 'hidden_states' : `${p}.out`;
    nodes.push({ opType: 'LayerNormalization', inputs: [`${p}.res2`, f32(`${p}.ln2.g`, w.g2, [c.hidden]), f32(`${p}.ln2.b`, w.b2, [c.hidden])], outputs: [out], attrs: { axis: -1, epsilon: { float: EPS } } });
    x = out;
  });
  return encodeOnnxModel({
    nodes,
    inputs: [{ name: 'embeddings', dtype: 'float32', dims: ['batch', c.seq, c.hidden] }],
    outputs: [{ name: 'hidden_states', dtype: 'float32', dims: ['batch', c.seq, c.hidden] }],
    initializers: inits,
    opsets: { '': 20 }, // Gelu is opset 20
  });
}

function tfEncoder(tf: Tf, c: EncoderConfig, ws: readonly LayerWeights[]): TfModel {
  const dh = c.hidden / c.heads;
  const layers = ws.map((w) => ({
    q: tf.tensor2d(w.q, [c.hidden, c.hidden]), bq: tf.tensor1d(w.bq), k: tf.tensor2d(w.k, [c.hidden, c.hidden]), bk: tf.tensor1d(w.bk),
    v: tf.tensor2d(w.v, [c.hidden, c.hidden]), bv: tf.tensor1d(w.bv), o: tf.tensor2d(w.o, [c.hidden, c.hidden]), bo: tf.tensor1d(w.bo),
    g1: tf.tensor1d(w.g1), b1: tf.tensor1d(w.b1), f1: tf.tensor2d(w.f1, [c.hidden, c.ffn]), bf1: tf.tensor1d(w.bf1),
    f2: tf.tensor2d(w.f2, [c.ffn, c.hidden]), bf2: tf.tensor1d(w.bf2), g2: tf.tensor1d(w.g2), b2: tf.tensor1d(w.b2),
  }));
  const layerNorm = (t: Tf, x: tfc.Tensor, g: tfc.Tensor, b: tfc.Tensor): tfc.Tensor => {
    const mean = t.mean(x, -1, true);
    const centered = t.sub(x, mean);
    const variance = t.mean(t.square(centered), -1, true);
    return t.add(t.mul(t.mul(centered, t.rsqrt(t.add(variance, EPS))), g), b);
  };
  const gelu = (t: Tf, x: tfc.Tensor): tfc.Tensor => t.mul(t.mul(x, 0.5), t.add(1, t.erf(t.mul(x, Math.SQRT1_2))));
  return {
    run: (t, input) =>
      t.tidy(() => {
        const batch = input.shape[0]!;
        let x = t.reshape(input, [batch * c.seq, c.hidden]);
        for (const w of layers) {
          const heads = (y: tfc.Tensor, perm: number[]): tfc.Tensor => t.transpose(t.reshape(y, [batch, c.seq, c.heads, dh]), perm);
          const q = heads(t.add(t.matMul(x as tfc.Tensor2D, w.q), w.bq), [0, 2, 1, 3]);
          const k = heads(t.add(t.matMul(x as tfc.Tensor2D, w.k), w.bk), [0, 2, 3, 1]);
          const v = heads(t.add(t.matMul(x as tfc.Tensor2D, w.v), w.bv), [0, 2, 1, 3]);
          const probs = t.softmax(t.div(t.matMul(q, k), Math.sqrt(dh)));
          const ctx = t.reshape(t.transpose(t.matMul(probs, v), [0, 2, 1, 3]), [batch * c.seq, c.hidden]);
          const x1 = layerNorm(t, t.add(x, t.add(t.matMul(ctx as tfc.Tensor2D, w.o), w.bo)), w.g1, w.b1);
          const h = gelu(t, t.add(t.matMul(x1 as tfc.Tensor2D, w.f1), w.bf1));
          x = layerNorm(t, t.add(x1, t.add(t.matMul(h as tfc.Tensor2D, w.f2), w.bf2)), w.g2, w.b2);
        }
        return t.reshape(x, [batch, c.seq, c.hidden]);
      }),
    dispose: () => tf.dispose(layers.flatMap((l) => Object.values(l))),
  };
}

export function encoderWorkload(c: EncoderConfig): Workload {
  const name = `bert-${c.layers}L-${c.hidden}H-seq${c.seq}`;
  const ws = weights(c, hashString(name));
  const matmulFlops = c.layers * c.seq * 2 * (4 * c.hidden * c.hidden + 2 * c.hidden * c.ffn + 2 * c.seq * c.hidden);
  return {
    name,
    kind: 'model',
    onnx: { bytes: onnxEncoder(c, ws) },
    inputName: 'embeddings',
    inputDims: (batch) => [batch, c.seq, c.hidden],
    batchable: true,
    flops: matmulFlops,
    inputKey: name,
    tfjs: (tf) => tfEncoder(tf, c, ws),
  };
}

export const BERT_SMALL: EncoderConfig = { seq: 64, hidden: 128, heads: 4, ffn: 512, layers: 2 };
export const BERT_TINY: EncoderConfig = { seq: 16, hidden: 32, heads: 2, ffn: 64, layers: 1 };
