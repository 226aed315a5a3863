import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { Attributes } from '../../../core/attributes.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex } from './graph-index.ts';
import { matchAttentionCore } from './match-attention-core.ts';
import { isOp } from './pattern-match.ts';

/*
 * The decomposed self-attention of BERT/GPT exports:
 *
 *   q4 = Transpose(Reshape(q, [b, s, N, H]), [0, 2, 1, 3])      (likewise v, head size Hv)
 *   kT = Transpose(Reshape(k, [b, s, N, H]), [0, 2, 3, 1])
 *   p  = Softmax(MatMul(q4, kT) / c [+ bias], axis -1)           (or * c)
 *   o  = Transpose(MatMul(p, v4), [0, 2, 1, 3])                  ([B, S, N, Hv])
 *
 * becomes com.microsoft MultiHeadAttention(Reshape(q, [b, s, N * H]), k', v', attention_bias:
 * bias; num_heads N, scale 1 / c) and a Reshape of its [B, S, N * Hv] output back to o's
 * [B, S, N, Hv]: the Reshapes are views, and the WebGPU kernel reads Q, K and V in place (one
 * dispatch instead of seven). Exact or nothing: every intermediate is read by nothing else; shapes
 * and the scale are initializers; q, k and v are MatMuls of one tensor by 2-D weights and reshaped
 * by one shape, so they share B and S as the op requires; a bias only as a 4-D float32 initializer
 * [1, 1|N, S, T] (S, T > 1: nothing broadcasts that the op would not). Masks computed at run time
 * (BERT's [B, 1, 1, T] padding term) and dynamically computed reshape shapes are left alone.
 */

const intsOf = (t: AnyTensor | undefined): number[] | undefined => (t && (t.type === 'int64' || t.type === 'int32') ? [...toNumbers(t)] : undefined);
const samePerm = (n: Node, perm: readonly number[]): boolean => {
  const p = n.attrs.ints('perm');
  return p !== undefined && p.length === perm.length && p.every((v, i) => v === perm[i]);
};

interface Heads {
  /** the [b, s, N * H] value reshaped into heads */
  readonly src: string;
  readonly shape: readonly number[];
  readonly reshape: Node;
  readonly transpose: Node;
}

/** Reshape(src, [c0, c1, N, H]) -> Transpose(perm) ending at `value`, each read only by the next. */
function heads(graph: Graph, index: GraphIndex, value: string, perm: readonly number[]): Heads | undefined {
  const transpose = index.producer.get(value);
  if (!isOp(transpose, 'Transpose') || !samePerm(transpose, perm) || !index.hasSingleConsumer(value)) return undefined;
  const reshape = index.producer.get(transpose.inputs[0]!);
  if (!isOp(reshape, 'Reshape') || !index.hasSingleConsumer(reshape.outputs[0]!) || reshape.attrs.int('allowzero', 0) !== 0) return undefined;
  const shapeName = reshape.inputs[1] ?? '';
  const shape = graph.inputs.some((i) => i.name === shapeName) ? undefined : intsOf(graph.initializers.get(shapeName));
  if (!shape || shape.length !== 4 || !(shape[2]! > 0) || !(shape[3]! > 0)) return undefined;
  return { src: reshape.inputs[0]!, shape, reshape, transpose };
}

/** The x of MatMul(x, W) (a fused bias allowed) with W a 2-D initializer: the op keeps x's leading dims. */
function projectionInput(graph: Graph, index: GraphIndex, value: string): string | undefined {
  const mm = index.producer.get(value);
  if (!isOp(mm, 'MatMul') || mm.attrs.has('kiln_epilogue_steps')) return undefined;
  const w = graph.initializers.get(mm.inputs[1] ?? '');
  return w && w.dims.length === 2 && !graph.inputs.some((i) => i.name === mm.inputs[1]) ? mm.inputs[0] : undefined;
}

interface Match {
  readonly q: Heads;
  readonly k: Heads;
  readonly v: Heads;
  readonly scale: number;
  readonly bias?: string;
  readonly out: Node;
  readonly removed: readonly Node[];
}

function match(graph: Graph, index: GraphIndex, pv: Node, opset: number): Match | undefined {
  const vT = pv.inputs[1]!;
  const out = index.onlyConsumer(pv.outputs[0]!);
  if (!isOp(out, 'Transpose') || !samePerm(out, [0, 2, 1, 3])) return undefined;
  const core = matchAttentionCore(graph, index, pv, opset);
  // MultiHeadAttention's scale attribute: a positive number (0 means its default)
  if (!core || !core.scaled || !(core.scale > 0 && Number.isFinite(core.scale))) return undefined;
  const { qk, scale, added: bias } = core;
  if (bias !== undefined) {
    const t = !graph.inputs.some((i) => i.name === bias) ? graph.initializers.get(bias) : undefined;
    if (!t || t.type !== 'float32' || t.dims.length !== 4 || t.dims[0] !== 1 || !(t.dims[2]! > 1) || !(t.dims[3]! > 1)) return undefined;
  }
  const removed: Node[] = [pv, out, ...core.nodes];
  const q = heads(graph, index, qk.inputs[0]!, [0, 2, 1, 3]);
  const k = heads(graph, index, qk.inputs[1]!, [0, 2, 3, 1]);
  const v = heads(graph, index, vT, [0, 2, 1, 3]);
  if (!q || !k || !v) return undefined;
  // one head count and head size for Q and K, one [b, s] for all three
  const [N, H] = [q.shape[2]!, q.shape[3]!];
  if (k.shape[2] !== N || k.shape[3] !== H || v.shape[2] !== N) return undefined;
  if (![k, v].every((h) => h.shape[0] === q.shape[0] && h.shape[1] === q.shape[1])) return undefined;
  const x = projectionInput(graph, index, q.src);
  if (x === undefined || projectionInput(graph, index, k.src) !== x || projectionInput(graph, index, v.src) !== x) return undefined;
  if (bias && ![1, N].includes(graph.initializers.get(bias)!.dims[1]!)) return undefined;
  removed.push(q.reshape, q.transpose, k.reshape, k.transpose, v.reshape, v.transpose);
  return { q, k, v, scale, ...(bias ? { bias } : {}), out, removed };
}

/**
 * Decomposed multi-head self-attention -> com.microsoft MultiHeadAttention (see above). Runs for
 * WebGPU only (optimizeForBackend): the CPU backends keep the MatMul/Softmax ops their kernels run.
 */
export function recognizeAttention(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const removed = new Set<Node>();
  const insert = new Map<Node, Node[]>();
  for (const pv of graph.nodes) {
    if (!isOp(pv, 'MatMul') || pv.inputs.length !== 2 || removed.has(pv)) continue;
    const m = match(graph, index, pv, opset);
    if (!m || m.removed.some((n) => removed.has(n))) continue;
    const name = m.out.outputs[0]!;
    const shape = (what: string, dims: number[]): string => {
      const id = `${name}/attention_${what}_shape`;
      graph.initializers.set(id, new Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [dims.length]));
      return id;
    };
    const [c0, c1, N, H] = m.q.shape as [number, number, number, number];
    const Hv = m.v.shape[3]!;
    // [b, s, N * H]: the same leading dims as the heads reshape gives (0 copies, -1 infers alike)
    const flat = (h: Heads, what: string, hd: number): Node => ({
      name: `${h.reshape.name}/flat`, opType: 'Reshape', domain: '', inputs: [h.src, shape(what, [c0, c1, N * hd])], outputs: [`${name}/attention_${what}`], attrs: Attributes.empty(),
    });
    const nodes = [flat(m.q, 'q', H), flat(m.k, 'k', H), flat(m.v, 'v', Hv)];
    const attrs = Attributes.empty().with('num_heads', N).with('scale', m.scale);
    const inputs = [nodes[0]!.outputs[0]!, nodes[1]!.outputs[0]!, nodes[2]!.outputs[0]!, ...(m.bias ? ['', '', m.bias] : [])];
    nodes.push({ name: `${m.out.name}/attention`, opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs, outputs: [`${name}/attention`], attrs });
    // back to the [B, S, N, Hv] the Transpose gave: its readers are unchanged
    nodes.push({ name: `${m.out.name}/heads`, opType: 'Reshape', domain: '', inputs: [`${name}/attention`, shape('out', [0, 0, N, Hv])], outputs: [name], attrs: Attributes.empty() });
    for (const n of m.removed) removed.add(n);
    insert.set(m.out, nodes);
  }
  if (removed.size > 0) graph.nodes = graph.nodes.flatMap((n) => insert.get(n) ?? (removed.has(n) ? [] : [n]));
}
