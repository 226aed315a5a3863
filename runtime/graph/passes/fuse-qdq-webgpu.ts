import type { DataType } from '../../../core/dtype.ts';
import type { AnyTensor } from '../../../core/tensor.ts';
import { Tensor } from '../../../core/tensor.ts';
import { ADD_ATTR, DQ_BIAS_ATTR, MAX_DQ_BIAS, DQ_SCALE_ATTR, DQ_ZERO_POINT_ATTR, LOOKUP_ATTR, QUANTIZE_X_ATTR, RESIDUAL_SLOT } from '../../../kernels/qlinear-conv/fused-io-attrs.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { knownTypes } from './value-types.ts';

/**
 * WebGPU only (optimizeForBackend): the ops around a QLinearConv (or QLinearMatMul) that the QDQ lowering leaves as
 * dispatches of their own move into it (kernels/qlinear-conv/fused-io.ts):
 * - QLinearConv -> com.microsoft QLinearAdd (a residual connection; QLinearConv only): the add in
 *   the conv's store, as the float model's Add folds into its Conv's epilogue;
 * - QLinearConv -> kiln.QLinearLookup (the folded activation): the table in the conv's store;
 * - then -> DequantizeLinear (a float consumer follows: squeeze-excite's GlobalAveragePool / Mul):
 *   the conv stores the dequantized float; a QLinearMatMul's then -> Add of a constant [N] (a
 *   classifier head's bias) too;
 * - QuantizeLinear -> QLinearConv (the model input, a GlobalAveragePool's or a Mul's float
 *   result): x is quantized as the conv reads it.
 * Only when the value in between is read by nothing else and the parameters are per-tensor
 * constants; each fold keeps the separate ops' arithmetic, so answers do not change.
 */
export function fuseQdqWebgpu(graph: Graph): void {
  foldAdds(graph);
  foldStores(graph);
  foldQuantizeLoads(graph);
  dropRepeatedQdq(graph);
}

// QLinearConv and QLinearMatMul share the slots used here: 0 x, 1 x_scale, 2 x_zero_point, 7 y_zero_point
const isConv = (n: Node | undefined): n is Node => n !== undefined && (n.opType === 'QLinearConv' || n.opType === 'QLinearMatMul') && n.domain === '';
const isPlain = (n: Node, allowed: readonly string[]): boolean => n.attrs.names().every((a) => allowed.includes(a));

/** A one-element initializer (scale or zero point), or undefined. */
function scalarInit(graph: Graph, name: string | undefined): AnyTensor | undefined {
  const t = name ? graph.initializers.get(name) : undefined;
  return t && t.data.length === 1 ? t : undefined;
}

/**
 * A float32 rank-1 initializer a feed cannot override (float addition commutes: either operand side),
 * at most MAX_DQ_BIAS wide: a wider one (PP-OCR rec's 6625-class head) keeps its Add on the GPU.
 */
function constantBias(graph: Graph, name: string | undefined): AnyTensor | undefined {
  const t = name && !graph.inputs.some((i) => i.name === name) ? graph.initializers.get(name) : undefined;
  return t && t.type === 'float32' && t.dims.length === 1 && t.size <= MAX_DQ_BIAS ? t : undefined;
}

function foldStores(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (!isConv(conv) || conv.attrs.has(LOOKUP_ATTR) || conv.attrs.has(DQ_SCALE_ATTR)) continue;
    let attrs = conv.attrs;
    let out = conv.outputs[0]!;
    const removed: Node[] = [];
    const lookup = index.onlyConsumer(out);
    const table = lookup && lookup.opType === 'QLinearLookup' && lookup.domain === 'kiln' && lookup.inputs[0] === out ? graph.initializers.get(lookup.inputs[1] ?? '') : undefined;
    if (lookup && table && table.dims.length === 1 && table.data.length === 256) {
      // input 2 (the dequantized inputs) only serves the wasm backend's table rebuild
      attrs = attrs.with(LOOKUP_ATTR, table);
      out = lookup.outputs[0]!;
      removed.push(lookup);
    }
    const outType = table ? table.type : scalarInit(graph, conv.inputs[7])?.type;
    const dq = index.onlyConsumer(out);
    const scale = dq && scalarInit(graph, dq.inputs[1]);
    const zp = dq?.inputs[2] ? scalarInit(graph, dq.inputs[2]) : undefined;
    if (dq && dq.opType === 'DequantizeLinear' && dq.domain === '' && dq.inputs[0] === out && isPlain(dq, ['axis']) && scale?.type === 'float32'
      && (outType === 'uint8' || outType === 'int8') && (dq.inputs[2] ? zp?.type === outType : true)) {
      attrs = attrs.with(DQ_SCALE_ATTR, scale);
      if (zp) attrs = attrs.with(DQ_ZERO_POINT_ATTR, zp);
      out = dq.outputs[0]!;
      removed.push(dq);
      // then a classifier head's bias (QLinearMatMul -> DQ -> Add of a constant [N]): in the same store
      const add = conv.opType === 'QLinearMatMul' ? index.onlyConsumer(out) : undefined;
      const bias = add && add.opType === 'Add' && add.domain === '' ? constantBias(graph, add.inputs[0] === out ? add.inputs[1] : add.inputs[0]) : undefined;
      if (add && bias && add.inputs.filter((v) => v === out).length === 1) {
        attrs = attrs.with(DQ_BIAS_ATTR, bias);
        out = add.outputs[0]!;
        removed.push(add);
      }
    }
    if (removed.length === 0) continue;
    for (const r of removed) replace.set(r, undefined);
    replace.set(conv, { ...conv, outputs: [out], attrs });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

/**
 * QLinearConv -> QLinearAdd where the conv's output is read only by the add (as one operand) and the
 * add's six parameters are scalar constants: the conv takes the add's other operand as input
 * RESIDUAL_SLOT and its output. Float addition commutes, so the conv's side is always the first term.
 */
function foldAdds(graph: Graph): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (conv.opType !== 'QLinearConv' || conv.domain !== '' || conv.inputs.length > RESIDUAL_SLOT) continue;
    if (conv.attrs.has(LOOKUP_ATTR) || conv.attrs.has(DQ_SCALE_ATTR) || conv.attrs.has(ADD_ATTR) || conv.attrs.has(QUANTIZE_X_ATTR)) continue;
    const out = conv.outputs[0]!;
    const add = index.onlyConsumer(out);
    if (!add || add.opType !== 'QLinearAdd' || add.domain !== 'com.microsoft' || replace.has(add) || add.attrs.names().length > 0) continue;
    const side = add.inputs[0] === out ? 0 : add.inputs[3] === out ? 3 : -1;
    if (side < 0 || add.inputs[3 - side] === out) continue;
    const other = 3 - side;
    // [scale, zero point] of the conv's operand, of the other one, of the output; a missing zero point is 0
    const param = (slot: number, zero: boolean): number | undefined => {
      const name = add.inputs[slot];
      if (zero && !name) return 0;
      const t = scalarInit(graph, name);
      return t && (zero ? t.type !== 'float32' : t.type === 'float32') ? Number(t.data[0]) : undefined;
    };
    const params = [param(side + 1, false), param(side + 2, true), param(other + 1, false), param(other + 2, true), param(6, false), param(7, true)];
    if (params.some((v) => v === undefined)) continue;
    const inputs = [...conv.inputs];
    while (inputs.length < RESIDUAL_SLOT) inputs.push('');
    inputs.push(add.inputs[other]!);
    // the fused node takes the add's place: after the residual's producer, which may follow the conv
    replace.set(conv, undefined);
    replace.set(add, { ...conv, inputs, outputs: [add.outputs[0]!], attrs: conv.attrs.with(ADD_ATTR, new Tensor('float32', Float32Array.from(params as number[]), [6])) });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

/** Output types this pass needs beyond value-types.ts's table: dequantized, looked-up and fused conv results. */
function quantTypes(n: Node, types: ReadonlyMap<string, DataType>): DataType | undefined {
  if (n.opType === 'DequantizeLinear' && n.domain === '' && !n.attrs.has('output_dtype')) return types.get(n.inputs[1] ?? '');
  if (n.opType === 'QLinearLookup' && n.domain === 'kiln') return types.get(n.inputs[1] ?? '');
  if (isConv(n)) return n.attrs.has(DQ_SCALE_ATTR) ? 'float32' : n.attrs.tensor(LOOKUP_ATTR)?.type ?? types.get(n.inputs[7] ?? '');
  return undefined;
}

function foldQuantizeLoads(graph: Graph): void {
  const index = new GraphIndex(graph);
  const types = knownTypes(graph, quantTypes);
  const replace = new Map<Node, Node | undefined>();
  for (const conv of graph.nodes) {
    if (!isConv(conv) || conv.attrs.has(QUANTIZE_X_ATTR)) continue;
    const q = index.producer.get(conv.inputs[0] ?? '');
    if (!q || q.opType !== 'QuantizeLinear' || q.domain !== '' || !index.hasSingleConsumer(q.outputs[0]!) || !isPlain(q, ['axis'])) continue;
    if (types.get(q.inputs[0] ?? '') !== 'float32') continue;
    // the Q's parameters must be the conv's x_scale / x_zero_point (same values, same types)
    const [qs, qz, cs, cz] = [q.inputs[1], q.inputs[2], conv.inputs[1], conv.inputs[2]].map((name) => scalarInit(graph, name));
    if (!qs || !qz || !cs || !cz || qs.type !== 'float32' || cs.type !== 'float32' || qz.type !== cz.type) continue;
    if (qs.data[0] !== cs.data[0] || qz.data[0] !== cz.data[0]) continue;
    replace.set(q, undefined);
    replace.set(conv, { ...conv, inputs: [q.inputs[0]!, ...conv.inputs.slice(1)], attrs: conv.attrs.with(QUANTIZE_X_ATTR, 1) });
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

/** Ops that move elements without changing them: a QuantizeDequantize commutes with them. */
const VIEWS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);
/** Scales whose grid values survive (q - zp) * s / s with an error far below half a step. */
const SAFE_SCALE: readonly [number, number] = [2 ** -60, 2 ** 60];

/**
 * A kiln.QuantizeDequantize of a value already on its grid (the same per-tensor constant scale and
 * zero point applied before, possibly through Reshape/Flatten/Squeeze/Unsqueeze: onnxruntime's
 * quantizer gives a Reshape's output its input's parameters) is the identity: each value is
 * (q - zp) * s, which divides back to q - zp within a few ulps of an integer of magnitude <= 255
 * (even with WGSL's 2.5-ulp division), rounds to it and stays inside the clamp. Its readers read
 * its input instead: one dispatch fewer, the same values.
 */
function dropRepeatedQdq(graph: Graph): void {
  const index = new GraphIndex(graph);
  const isQdq = (n: Node | undefined): n is Node => n !== undefined && n.opType === 'QuantizeDequantize' && n.domain === 'kiln' && isPlain(n, ['kiln_opset', 'axis']);
  const sameParams = (a: Node, b: Node): boolean => {
    const [as, bs] = [scalarInit(graph, a.inputs[1]), scalarInit(graph, b.inputs[1])];
    const [az, bz] = [a.inputs[2] ? scalarInit(graph, a.inputs[2]) : undefined, b.inputs[2] ? scalarInit(graph, b.inputs[2]) : undefined];
    if (!as || !bs || as.type !== 'float32' || bs.type !== 'float32' || as.data[0] !== bs.data[0]) return false;
    const scale = Math.abs(Number(as.data[0]));
    if (!(scale >= SAFE_SCALE[0] && scale <= SAFE_SCALE[1])) return false;
    if (Boolean(a.inputs[2]) !== Boolean(b.inputs[2]) || (a.inputs[2] && (!az || !bz || az.type !== bz.type || az.data[0] !== bz.data[0]))) return false;
    return a.attrs.int('kiln_opset', 0) === b.attrs.int('kiln_opset', 0);
  };
  const rename = new Map<string, string>();
  const replace = new Map<Node, Node | undefined>();
  for (const n of graph.nodes) {
    if (!isQdq(n) || index.graphOutputs.has(n.outputs[0]!)) continue;
    let p = index.producer.get(n.inputs[0] ?? '');
    while (p && p.domain === '' && VIEWS.has(p.opType)) p = index.producer.get(p.inputs[0] ?? '');
    if (!isQdq(p) || replace.has(p) || !sameParams(p, n)) continue;
    rename.set(n.outputs[0]!, n.inputs[0]!);
    replace.set(n, undefined);
  }
  if (replace.size === 0) return;
  for (const c of graph.nodes) {
    if (replace.has(c) || !c.inputs.some((v) => rename.has(v))) continue;
    replace.set(c, { ...c, inputs: c.inputs.map((v) => rename.get(v) ?? v) });
  }
  rewriteNodes(graph, replace);
}
