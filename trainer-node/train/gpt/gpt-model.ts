// A small decoder-only transformer (GPT-2's block: pre-LayerNorm, causal self-attention, tanh-GELU
// MLP, learned token and position embeddings, untied output head) over TF.js variables, so the
// trainer's fake quantization and the ONNX export (gpt-onnx.ts) see the same parameters.
import * as tf from '@tensorflow/tfjs';
import { fakeQuantWeight, type WeightScheme } from '../fake-quant.ts';
import type { ParamLayer } from '../net.ts';

export interface GptConfig {
  readonly vocabSize: number;
  readonly dModel: number;
  readonly heads: number;
  readonly layers: number;
  /** positions the model has embeddings for: the longest sequence it can run, past included */
  readonly maxPositions: number;
}

export const LN_EPSILON = 1e-5;
/** GELU's tanh form, as GPT-2: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
export const GELU_C = Math.sqrt(2 / Math.PI);
export const GELU_A = 0.044715;

export interface LayerNormParams {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
}

export interface GptBlock {
  readonly ln1: LayerNormParams;
  /** [d, 3d]: q, k and v side by side */
  readonly qkv: ParamLayer;
  readonly proj: ParamLayer;
  readonly ln2: LayerNormParams;
  readonly fc: ParamLayer;
  readonly out: ParamLayer;
}

export interface Gpt {
  readonly config: GptConfig;
  readonly tokenEmbedding: tf.Variable;
  readonly positionEmbedding: tf.Variable;
  readonly blocks: readonly GptBlock[];
  readonly lnF: LayerNormParams;
  readonly head: ParamLayer;
  /** true once QAT starts: the dense weights are fake-quantized */
  quantized: boolean;
}

let nextModelId = 0;

/** GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 layers). */
export function buildGpt(config: GptConfig, seed: number): Gpt {
  const { dModel: d, vocabSize: v, layers } = config;
  if (d % config.heads !== 0) throw new Error(`dModel ${d} is not a multiple of heads ${config.heads}`);
  let s = seed;
  // TF.js variable names are global to the process: each model gets its own prefix.
  const prefix = `gpt${nextModelId++}/`;
  const normal = (shape: number[], std: number, name: string): tf.Variable => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++), true, prefix + name);
  const zeros = (shape: number[], name: string): tf.Variable => tf.variable(tf.zeros(shape), true, prefix + name);
  const ones = (shape: number[], name: string): tf.Variable => tf.variable(tf.ones(shape), true, prefix + name);
  const dense = (name: string, k: number, n: number, std: number): ParamLayer => ({ kind: 'dense', name, w: normal([k, n], std, `${name}.w`), b: zeros([n], `${name}.b`), stride: 1 });
  const ln = (name: string): LayerNormParams => ({ gamma: ones([d], `${name}.gamma`), beta: zeros([d], `${name}.beta`) });
  const residual = 0.02 / Math.sqrt(2 * layers);
  const blocks = Array.from({ length: layers }, (_, i): GptBlock => ({
    ln1: ln(`h${i}.ln1`),
    qkv: dense(`h${i}.attn.qkv`, d, 3 * d, 0.02),
    proj: dense(`h${i}.attn.proj`, d, d, residual),
    ln2: ln(`h${i}.ln2`),
    fc: dense(`h${i}.mlp.fc`, d, 4 * d, 0.02),
    out: dense(`h${i}.mlp.out`, 4 * d, d, residual),
  }));
  return {
    config,
    tokenEmbedding: normal([v, d], 0.02, 'wte'),
    positionEmbedding: normal([config.maxPositions, d], 0.01, 'wpe'),
    blocks,
    lnF: ln('ln_f'),
    head: dense('head', d, v, 0.02),
    quantized: false,
  };
}

export function denseLayers(g: Gpt): ParamLayer[] {
  return [...g.blocks.flatMap((b) => [b.qkv, b.proj, b.fc, b.out]), g.head];
}

export function gptVariables(g: Gpt): tf.Variable[] {
  const ln = (p: LayerNormParams): tf.Variable[] => [p.gamma, p.beta];
  return [g.tokenEmbedding, g.positionEmbedding, ...g.blocks.flatMap((b) => [...ln(b.ln1), ...ln(b.ln2)]), ...ln(g.lnF), ...denseLayers(g).flatMap((l) => [l.w, l.b])];
}

export function disposeGpt(g: Gpt): void {
  for (const v of gptVariables(g)) v.dispose();
}

/** Every dense weight quantized with `scheme` from now on (QAT). */
export function assignGptSchemes(g: Gpt, scheme: WeightScheme): void {
  for (const l of denseLayers(g)) l.scheme = scheme;
  g.quantized = true;
}

function layerNorm(x: tf.Tensor, p: LayerNormParams): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LN_EPSILON))), p.gamma), p.beta);
}

function linear(g: Gpt, x: tf.Tensor, l: ParamLayer): tf.Tensor {
  const w = g.quantized && l.scheme ? fakeQuantWeight(l.w, l.scheme) : l.w;
  const [k, n] = l.w.shape as [number, number];
  const lead = x.shape.slice(0, -1);
  return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, k]), w), l.b), [...lead, n]);
}

/** Embedding tables are int8 with one scale per row once quantized (whatever the dense weights' bits). */
export const EMBEDDING_SCHEME: WeightScheme = { kind: 'per-channel', bits: 8 };

/** The table the forward pass reads: fake-quantized per row during QAT (rows as the last axis of its transpose). */
function embeddingTable(g: Gpt, table: tf.Variable): tf.Tensor {
  return g.quantized ? tf.transpose(fakeQuantWeight(tf.transpose(table), EMBEDDING_SCHEME)) : table;
}

/**
 * Rows of `table` for int32 `ids` [B, T] -> [B, T, d], as one-hot x table: exact (one 1, zeros
 * elsewhere), and its gradient is a MatMul, where tf.gather's needs UnsortedSegmentSum, which
 * TF.js's wasm backend lacks.
 */
function lookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [rows, d] = table.shape as [number, number];
  return tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), rows), table), [...ids.shape, d]);
}

export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_A)), GELU_C))));
}

/**
 * Logits [B, T, vocab] for tokens [B, T] (int32) at positions [B, T] (int32; consecutive per row),
 * each token attending to itself and the tokens before it.
 */
export function gptForward(g: Gpt, tokens: tf.Tensor, positions: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [batch, t] = tokens.shape as [number, number];
    const { dModel: d, heads } = g.config;
    const dh = d / heads;
    let h = tf.add(lookup(embeddingTable(g, g.tokenEmbedding), tokens), lookup(embeddingTable(g, g.positionEmbedding), positions));
    // 0 where a key may be seen (key index <= query index), -1e9 above the diagonal
    const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9);
    const splitHeads = (x: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(x, [batch, t, heads, dh]), [0, 2, 1, 3]);
    for (const b of g.blocks) {
      const qkv = linear(g, layerNorm(h, b.ln1), b.qkv);
      const [q, k, v] = tf.split(qkv, 3, -1).map(splitHeads) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), causal);
      const attended = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [batch, t, d]);
      h = tf.add(h, linear(g, attended, b.proj));
      h = tf.add(h, linear(g, gelu(linear(g, layerNorm(h, b.ln2), b.fc)), b.out));
    }
    return linear(g, layerNorm(h, g.lnF), g.head);
  });
}
