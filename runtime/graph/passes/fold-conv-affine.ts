import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';

/**
 * Conv -> Mul / Add by constants that vary at most along the output channels (a scalar, [M, 1, 1],
 * [1, M, 1, 1]...) becomes one Conv with scaled weights and bias, as onnxruntime's ConvMulFusion and
 * ConvAddFusion do: Mul by s: w' = w * s[m], b' = b * s[m]; Add of a: b' = b + a[m]; any run of
 * them in a row. PaddleOCR's PP-LCNetV3 follows each conv with such a Mul and Add (its learnable
 * affine block): folded, the conv's HardSwish fuses into it and the elementwise work after each conv
 * falls from 5 ops to 2. The conv's output must be read by the Mul or Add alone.
 */
export function foldConvAffine(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || replace.has(conv)) continue;
    const w = graph.initializers.get(conv.inputs[1]!);
    if (w?.type !== 'float32') continue;
    const cout = w.dims[0]!;
    const rank = w.dims.length;
    const biasName = conv.inputs[2];
    const bias0 = biasName ? graph.initializers.get(biasName) : undefined;
    if (biasName && (bias0?.type !== 'float32' || bias0.size !== cout)) continue;
    let weight: Float32Array | undefined;
    const bias = bias0 ? Float32Array.from(bias0.data as Float32Array) : new Float32Array(cout);
    let out = conv.outputs[0]!;
    const folded: Node[] = [];
    for (let next = index.onlyConsumer(out); next && (next.opType === 'Mul' || next.opType === 'Add') && next.domain === ''; next = index.onlyConsumer(out)) {
      const other = next.inputs[0] === out ? next.inputs[1] : next.inputs[1] === out ? next.inputs[0] : undefined;
      const perChannel = other === undefined || other === out ? undefined : channelValues(graph.initializers.get(other), cout, rank);
      if (!perChannel) break;
      if (next.opType === 'Mul') {
        const data = weight ?? (w.data as Float32Array);
        const k = data.length / cout;
        weight = Float32Array.from(data, (v, i) => v * perChannel[Math.floor(i / k)]!);
        for (let m = 0; m < cout; m++) bias[m] = bias[m]! * perChannel[m]!;
      } else {
        for (let m = 0; m < cout; m++) bias[m] = bias[m]! + perChannel[m]!;
      }
      folded.push(next);
      out = next.outputs[0]!;
    }
    if (folded.length === 0) continue;
    const wName = weight ? `${conv.name}/affine_folded_weight` : conv.inputs[1]!;
    const bName = `${conv.name}/affine_folded_bias`;
    if (weight) graph.initializers.set(wName, new Tensor('float32', weight, w.dims));
    graph.initializers.set(bName, new Tensor('float32', bias, [cout]));
    replace.set(conv, { ...conv, inputs: [conv.inputs[0]!, wName, bName], outputs: [out] });
    for (const n of folded) replace.set(n, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

/**
 * The value per output channel of a float32 constant that broadcasts against a conv output of
 * `rank` dims [N, M, ...] without changing its shape and varies along M at most; undefined otherwise.
 */
function channelValues(t: AnyTensor | undefined, cout: number, rank: number): Float32Array | undefined {
  if (t?.type !== 'float32' || t.dims.length > rank) return undefined;
  const at = rank - t.dims.length; // the output axis of t's first dim
  if (!t.dims.every((d, i) => d === 1 || (at + i === 1 && d === cout))) return undefined;
  const data = t.data as Float32Array;
  return data.length === 1 ? new Float32Array(cout).fill(data[0]!) : Float32Array.from(data);
}
