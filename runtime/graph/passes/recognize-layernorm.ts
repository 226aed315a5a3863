import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { Attributes } from '../../../core/attributes.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { isOp, otherInput, rankOf, scalarConstant } from './pattern-match.ts';

/**
 * The trailing axes a ReduceMean (keepdims 1) reduces, as a count k (axes -k..-1), or undefined.
 * Positive axes count only when the rank of x (the pattern's input) is stated; axes from an input (opset 18) only
 * when that input is an initializer.
 */
function trailingAxes(graph: Graph, mean: Node, opset: number, rank: number | undefined): number | undefined {
  if (mean.attrs.int('keepdims', 1) !== 1) return undefined;
  const given = opset >= 18 ? intsOf(graph.initializers.get(mean.inputs[1] ?? '')) : mean.attrs.ints('axes');
  if (!given || given.length === 0) return undefined; // all axes (or none): not a per-row norm
  const axes = given.map((a) => (a < 0 ? a : rank === undefined ? NaN : a - rank));
  const k = axes.length;
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i - k) && (rank === undefined || k <= rank) ? k : undefined;
}

const intsOf = (t: AnyTensor | undefined): number[] | undefined => (t && (t.type === 'int64' || t.type === 'int32') ? [...toNumbers(t)] : undefined);

/** A float initializer usable as LayerNormalization's scale/bias over the last k axes: its dims without leading 1s. */
function paramDims(graph: Graph, name: string, k: number, rank: number | undefined): number[] | undefined {
  const t = graph.initializers.get(name);
  if (!t || (t.type !== 'float32' && t.type !== 'float16')) return undefined;
  const first = t.dims.findIndex((d) => d !== 1);
  const dims = first < 0 ? [] : t.dims.slice(first);
  // a higher-rank parameter would raise the broadcast result's rank: only when x's rank covers it
  const fits = dims.length <= k && (t.dims.length <= k || (rank !== undefined && t.dims.length <= rank));
  return fits ? dims : undefined;
}

interface Match {
  readonly x: string;
  readonly k: number;
  readonly epsilon: number;
  readonly normalized: Node;
  readonly removed: Node[];
}

/**
 * ReduceMean -> Sub -> Pow 2 (or Mul d*d) -> ReduceMean -> Add eps -> Sqrt -> Div (or Reciprocal
 * and Mul), the body of a decomposed LayerNormalization, ending at the Div/Mul that normalizes.
 */
function matchBody(graph: Graph, index: GraphIndex, mean: Node, opset: number): Match | undefined {
  const x = mean.inputs[0]!;
  const rank = rankOf(graph, x);
  const k = trailingAxes(graph, mean, opset, rank);
  if (k === undefined || graph.initializers.has(x)) return undefined;
  const sub = index.onlyConsumer(mean.outputs[0]!);
  if (!isOp(sub, 'Sub') || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
  // the centred value d feeds exactly the square and the normalizing division
  const d = sub.outputs[0]!;
  const users = [...new Set(index.consumers.get(d) ?? [])];
  if (index.graphOutputs.has(d) || users.length !== 2) return undefined;
  const square = users.find((n) => (isOp(n, 'Pow') && n.inputs[0] === d && scalarConstant(graph, n.inputs[1]) === 2) || (isOp(n, 'Mul') && n.inputs[0] === d && n.inputs[1] === d));
  const divide = users.find((n) => n !== square);
  if (!square || !divide) return undefined;
  const variance = index.onlyConsumer(square.outputs[0]!);
  if (!isOp(variance, 'ReduceMean') || variance.inputs[0] !== square.outputs[0] || trailingAxes(graph, variance, opset, rank) !== k) return undefined;
  const addEps = index.onlyConsumer(variance.outputs[0]!);
  if (!isOp(addEps, 'Add')) return undefined;
  const epsilon = scalarConstant(graph, otherInput(addEps, variance.outputs[0]!));
  if (epsilon === undefined || !(epsilon >= 0)) return undefined;
  const sqrt = index.onlyConsumer(addEps.outputs[0]!);
  if (!isOp(sqrt, 'Sqrt')) return undefined;
  const removed = [mean, sub, square, variance, addEps, sqrt];
  if (isOp(divide, 'Div') && divide.inputs[0] === d && divide.inputs[1] === sqrt.outputs[0]) return { x, k, epsilon, normalized: divide, removed: [...removed, divide] };
  const reciprocal = index.onlyConsumer(sqrt.outputs[0]!);
  if (!isOp(reciprocal, 'Reciprocal') || !isOp(divide, 'Mul') || otherInput(divide, d) !== reciprocal.outputs[0]) return undefined;
  return { x, k, epsilon, normalized: divide, removed: [...removed, reciprocal, divide] };
}

/**
 * Decomposed LayerNormalization, as PyTorch (opset < 17), TensorFlow and PaddlePaddle export it,
 * becomes one LayerNormalization(axis = -k): mean over the last k axes, centred, variance of the
 * centred value, eps, sqrt, divide, then optionally * gamma and + beta (initializers). Only when
 * the mean IS subtracted: x / sqrt(mean(x^2) + eps) (RMSNorm) is a different op and stays.
 * Every intermediate must feed nothing outside the pattern.
 */
export function recognizeLayerNorm(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const mean of graph.nodes) {
    if (!isOp(mean, 'ReduceMean') || replace.has(mean)) continue;
    const m = matchBody(graph, index, mean, opset);
    if (!m || m.removed.some((n) => replace.has(n))) continue;
    const rank = rankOf(graph, m.x);
    let last = m.normalized;
    let scale: string | undefined;
    let bias: string | undefined;
    const mulGamma = index.onlyConsumer(last.outputs[0]!);
    const gamma = isOp(mulGamma, 'Mul') ? otherInput(mulGamma, last.outputs[0]!) : undefined;
    if (mulGamma && gamma !== undefined && paramDims(graph, gamma, m.k, rank)) {
      scale = gamma;
      m.removed.push(mulGamma);
      last = mulGamma;
    }
    const addBeta = index.onlyConsumer(last.outputs[0]!);
    const beta = isOp(addBeta, 'Add') ? otherInput(addBeta, last.outputs[0]!) : undefined;
    if (addBeta && beta !== undefined && paramDims(graph, beta, m.k, rank)) {
      bias = beta;
      m.removed.push(addBeta);
      last = addBeta;
    }
    const name = last.outputs[0]!;
    const param = (given: string | undefined, fill: number, what: string): string => {
      const t = given ? graph.initializers.get(given)! : undefined;
      const dims = given ? paramDims(graph, given, m.k, rank)! : [1];
      if (t && dims.length === t.dims.length) return given!;
      const id = `${name}/layernorm_${what}`;
      graph.initializers.set(id, t ? t.reshape(dims) : new Tensor('float32', new Float32Array([fill]), dims));
      return id;
    };
    // without gamma the scale is float32 ones: only beside a float32 bias (a float16 model keeps its ops)
    if (scale === undefined && bias !== undefined && graph.initializers.get(bias)!.type !== 'float32') continue;
    const inputs = [m.x, param(scale, 1, 'scale'), ...(bias !== undefined ? [param(bias, 0, 'bias')] : [])];
    const attrs = Attributes.empty().with('axis', -m.k).with('epsilon', m.epsilon);
    replace.set(mean, { name: `${last.name}/layernorm`, opType: 'LayerNormalization', domain: '', inputs, outputs: [name], attrs });
    for (const n of m.removed) if (n !== mean) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}
