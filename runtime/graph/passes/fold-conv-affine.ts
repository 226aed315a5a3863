import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

type Foldable = 'BatchNormalization' | 'Mul' | 'Add';
const ALL: ReadonlySet<string> = new Set<Foldable>(['BatchNormalization', 'Mul', 'Add']);

/**
 * A Conv followed by per-output-channel affine ops becomes one Conv with new weights and bias, as
 * onnxruntime's ConvBNFusion, ConvMulFusion and ConvAddFusion do; any run of them in a row, each read
 * by the next alone: BatchNormalization (inference): w' = w k, b' = (b - mean) k + beta with
 * k = scale / sqrt(var + eps); Mul by a constant s that varies at most along the channels (a scalar,
 * [M, 1, 1], [1, M, 1, 1]...): w' = w s, b' = b s; Add of such a constant a: b' = b + a. PaddleOCR's
 * PP-LCNetV3 follows each conv with a Mul and an Add (its learnable affine block): folded, the conv's
 * HardSwish fuses into it. The factors compose in float64; weights and bias are rounded once.
 */
export function foldConvAffine(graph: Graph, ops: ReadonlySet<string> = ALL): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || replace.has(conv)) continue;
    const w = graph.initializers.get(conv.inputs[1]!);
    if (w?.type !== 'float32') continue;
    const cout = w.dims[0]!;
    const b = conv.inputs[2] ? f32(graph.initializers.get(conv.inputs[2])) : new Float32Array(cout);
    if (b?.length !== cout) continue;
    // the output so far is k[m] * (W x) + shift[m]
    const k = new Float64Array(cout).fill(1);
    const shift = Float64Array.from(b);
    let out = conv.outputs[0]!;
    const folded: Node[] = [];
    for (let next = index.onlyConsumer(out); next && next.domain === '' && ops.has(next.opType); next = index.onlyConsumer(out)) {
      if (next.opType === 'BatchNormalization') {
        if (next.inputs[0] !== out || next.outputs.slice(1).some((o) => o && index.consumers.has(o))) break; // training outputs in use
        const [scale, beta, mean, variance] = next.inputs.slice(1, 5).map((n) => f32(graph.initializers.get(n)));
        if (![scale, beta, mean, variance].every((a) => a?.length === cout)) break;
        const eps = next.attrs.float('epsilon', 1e-5);
        for (let m = 0; m < cout; m++) {
          const km = scale![m]! / Math.sqrt(variance![m]! + eps);
          k[m] = k[m]! * km;
          shift[m] = (shift[m]! - mean![m]!) * km + beta![m]!;
        }
      } else {
        const other = next.inputs[0] === out ? next.inputs[1] : next.inputs[1] === out ? next.inputs[0] : undefined;
        const c = other === undefined || other === out ? undefined : channelValues(graph.initializers.get(other), cout, w.dims.length);
        if (!c) break;
        for (let m = 0; m < cout; m++) {
          if (next.opType === 'Mul') [k[m], shift[m]] = [k[m]! * c[m]!, shift[m]! * c[m]!];
          else shift[m] = shift[m]! + c[m]!;
        }
      }
      folded.push(next);
      out = next.outputs[0]!;
    }
    if (folded.length === 0) continue;
    const per = w.size / cout;
    const scaled = !k.every((v) => v === 1);
    const wName = scaled ? `${conv.name}/folded_weight` : conv.inputs[1]!;
    const bName = `${conv.name}/folded_bias`;
    if (scaled) graph.initializers.set(wName, new Tensor('float32', Float32Array.from(w.data as Float32Array, (v, i) => v * k[Math.floor(i / per)]!), w.dims));
    graph.initializers.set(bName, new Tensor('float32', Float32Array.from(shift), [cout]));
    replace.set(conv, { ...conv, inputs: [conv.inputs[0]!, wName, bName], outputs: [out] });
    for (const n of folded) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

/** Conv -> BatchNormalization only (the trainer's compress pipeline, which keeps other ops as they are). */
export const foldBatchNorm = (graph: Graph): void => foldConvAffine(graph, new Set<Foldable>(['BatchNormalization']));

const f32 = (t: AnyTensor | undefined): Float32Array | undefined => (t?.type === 'float32' ? (t.data as Float32Array) : undefined);

/**
 * The value per output channel of a float32 constant that broadcasts against a conv output of
 * `rank` dims [N, M, ...] without changing its shape and varies along M at most; undefined otherwise.
 */
function channelValues(t: AnyTensor | undefined, cout: number, rank: number): Float64Array | undefined {
  if (t?.type !== 'float32' || t.dims.length > rank) return undefined;
  const at = rank - t.dims.length; // the output axis of t's first dim
  if (!t.dims.every((d, i) => d === 1 || (at + i === 1 && d === cout))) return undefined;
  const data = t.data as Float32Array;
  return data.length === 1 ? new Float64Array(cout).fill(data[0]!) : Float64Array.from(data);
}
