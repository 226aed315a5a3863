// Writes the quantized model in QDQ form, node for node the way onnxruntime's quantizer
// (onnxruntime/python/tools/quantization/qdq_quantizer.py, quantize_static with QuantFormat.QDQ)
// does, so onnxruntime-web runs it with its integer kernels and Kiln lowers it
// (runtime/graph/passes/qdq-*.ts):
// - weight W: initializers `W_q` (integers) and `W_s` (scales) -> DequantizeLinear -> the layer;
// - int8 mode: bias B of Conv/Gemm as int32 `B_quantized` with scale x_scale * w_scale[c], zero
//   point 0 -> DequantizeLinear (per channel, axis 0); each activation tensor T on a layer's input or
//   output gets T -> QuantizeLinear -> DequantizeLinear (uint8, asymmetric) and every consumer reads
//   the DequantizeLinear output (graph outputs keep the float value);
// - int4 mode: weights only (blocked int4), activations and biases stay float, as onnxruntime's
//   4-bit weight quantizer writes them.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import type { RangeCollector } from './activation-ranges.ts';
import { uint8Params } from './activation-ranges.ts';
import { initializerMap, type Layer } from './layers.ts';
import { quantizeBlocked, quantizePerChannel, type QuantizedWeight } from './weight-quant.ts';

export interface QdqSettings {
  readonly bits: 8 | 4;
  /** int4 block size along the input dimension */
  readonly block: number;
}

/** How one layer's weight is stored (for the report). */
export interface LayerScheme {
  readonly layer: string;
  readonly scheme: string;
}

const INT32_MAX = 2 ** 31 - 1;

/** The weight axis holding output channels (int8 scales) and the one holding inputs (int4 blocks). */
function weightAxes(layer: Layer): { out: number; in: number } {
  if (layer.opType === 'Conv') return { out: 0, in: 1 };
  if (layer.opType === 'Gemm' && (layer.node.attrs?.transB ?? 0) !== 0) return { out: 0, in: 1 };
  return { out: 1, in: 0 };
}

export function quantizeLayerWeight(layer: Layer, w: AnyTensor, s: QdqSettings): { qw: QuantizedWeight; scheme: string } {
  const axes = weightAxes(layer);
  const data = w.data as Float32Array;
  const inputs = w.dims[axes.in]!;
  // int4 needs at least one full block of inputs per output (a depthwise conv has one): else int8
  if (s.bits === 4 && inputs >= s.block) return { qw: quantizeBlocked(data, w.dims, axes.in, s.block), scheme: `int4 blocks of ${s.block} (axis ${axes.in})` };
  return { qw: quantizePerChannel(data, w.dims, axes.out), scheme: `int8 per-channel (axis ${axes.out})${s.bits === 4 ? ', too few inputs for int4 blocks' : ''}` };
}

export function buildQdqModel(m: WriterModel, layers: readonly Layer[], ranges: RangeCollector | undefined, s: QdqSettings): { model: WriterModel; schemes: LayerScheme[] } {
  const inits = initializerMap(m);
  const out = new Map(inits);
  // short generated names: the .kiln header stores every name as JSON
  const taken = new Set([...inits.keys(), ...m.inputs.map((i) => i.name), ...m.nodes.flatMap((n) => [...n.outputs, n.name ?? ''])]);
  const fresh = (name: string): string => {
    let n = name;
    for (let k = 1; taken.has(n); k++) n = `${name}_${k}`;
    taken.add(n);
    return n;
  };
  const schemes: LayerScheme[] = [];
  const replaced = new Map<WriterNode, WriterNode>();
  const weightNodes = new Map<WriterNode, WriterNode[]>();
  const activations = new Map<string, { scale: number; zeroPoint: number }>();
  const quantizeActivation = (name: string): { scale: number; zeroPoint: number } | undefined => {
    if (s.bits !== 8 || !ranges) return undefined;
    const known = activations.get(name);
    if (known) return known;
    const r = ranges.range(name);
    if (!r) return undefined;
    const p = uint8Params(r);
    activations.set(name, p);
    return p;
  };
  /** initializer q (+ scale) -> DequantizeLinear; returns the node and its output */
  const dequantize = (base: string, q: AnyTensor, scale: AnyTensor, attrs: Readonly<Record<string, number>>): { node: WriterNode; output: string } => {
    const qName = fresh(`${base}_q`);
    const sName = fresh(`${base}_s`);
    const output = fresh(`${base}_dq`);
    out.set(qName, q);
    out.set(sName, scale);
    return { node: { opType: 'DequantizeLinear', name: output, inputs: [qName, sName], outputs: [output], attrs }, output };
  };
  for (const layer of layers) {
    const w = inits.get(layer.weight)!;
    const { qw, scheme } = quantizeLayerWeight(layer, w, s);
    schemes.push({ layer: layer.name, scheme });
    const wdq = dequantize(layer.weight, qw.q, qw.scale, qw.attrs);
    const extra: WriterNode[] = [wdq.node];
    const inputs = [...layer.node.inputs];
    inputs[1] = wdq.output;
    const x = quantizeActivation(layer.input);
    quantizeActivation(layer.output);
    if (layer.bias && x && qw.channelScales) {
      const b = inits.get(layer.bias)!.data as Float32Array;
      const bs = Float32Array.from(qw.channelScales, (ws) => Math.fround(x.scale * ws));
      const bq = Array.from(b, (v, c) => Math.round(v / bs[bs.length === 1 ? 0 : c]!));
      if (bs.length === b.length && bq.every((v) => Math.abs(v) <= INT32_MAX)) {
        const bdq = dequantize(layer.bias, new Tensor('int32', Int32Array.from(bq), [b.length]), new Tensor('float32', bs, [b.length]), { axis: 0 });
        extra.push(bdq.node);
        inputs[2] = bdq.output;
      }
    }
    weightNodes.set(layer.node, extra);
    replaced.set(layer.node, { ...layer.node, inputs });
  }

  // activation Q -> DQ pairs, right after each tensor's producer (graph inputs first)
  const dqOf = new Map<string, string>();
  const pair = (t: string): WriterNode[] => {
    const p = activations.get(t)!;
    const sName = fresh(`${t}_s`);
    const zName = fresh(`${t}_zp`);
    const qName = fresh(`${t}_q`);
    out.set(sName, new Tensor('float32', new Float32Array([p.scale]), []));
    out.set(zName, new Tensor('uint8', new Uint8Array([p.zeroPoint]), []));
    return [
      { opType: 'QuantizeLinear', name: qName, inputs: [t, sName, zName], outputs: [qName] },
      { opType: 'DequantizeLinear', name: dqOf.get(t)!, inputs: [qName, sName, zName], outputs: [dqOf.get(t)!] },
    ];
  };
  for (const t of activations.keys()) dqOf.set(t, fresh(`${t}_dq`));
  const rewire = (n: WriterNode): WriterNode => (n.inputs.some((i) => dqOf.has(i)) ? { ...n, inputs: n.inputs.map((i) => dqOf.get(i) ?? i) } : n);
  const nodes: WriterNode[] = [];
  for (const input of m.inputs) if (activations.has(input.name)) nodes.push(...pair(input.name));
  for (const n of m.nodes) {
    nodes.push(...(weightNodes.get(n) ?? []), rewire(replaced.get(n) ?? n));
    for (const o of n.outputs) if (activations.has(o)) nodes.push(...pair(o));
  }
  // float weights and biases nobody reads any more
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of out.keys()) if (!used.has(name)) out.delete(name);
  return { model: { ...m, nodes, initializers: out, producer: 'kiln compress' }, schemes };
}
