// Raises a model's ai.onnx opset so it can hold the quantization nodes `kiln compress` writes:
// per-channel DequantizeLinear needs opset 13, blocked int4 needs 21. Many exported models are older
// (PaddleOCR's are opset 9 and 11). Each op whose signature changed between the model's opset and the
// target is rewritten to the same computation at the target; an op that changed in a way not handled
// here is named in an UNSUPPORTED_FEATURE error instead of silently changing meaning.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { WriterAttribute, WriterModel, WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';

/** ai.onnx ops whose inputs, attributes and semantics are the same from opset 9 to 21. */
const STABLE = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool', 'BatchNormalization',
  'Cast', 'Ceil', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'ConvTranspose', 'Cos', 'Cosh', 'DepthToSpace', 'Div', 'Einsum',
  'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Flatten', 'Floor', 'Gather', 'GatherElements', 'GatherND', 'Gemm', 'GlobalAveragePool',
  'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'HardSigmoid', 'HardSwish', 'Identity', 'InstanceNormalization', 'IsInf', 'IsNaN',
  'LayerNormalization', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LRN', 'MatMul', 'Max', 'MaxPool', 'Mean', 'Min', 'Mod', 'Mul',
  'Neg', 'Not', 'Or', 'Pow', 'PRelu', 'Range', 'Reciprocal', 'Relu', 'Reshape', 'Round', 'Selu', 'Shape', 'Sigmoid', 'Sign', 'Sin',
  'Sinh', 'Size', 'Softplus', 'Softsign', 'SpaceToDepth', 'Sqrt', 'Sub', 'Sum', 'Tan', 'Tanh', 'Tile', 'Transpose', 'Where', 'Xor',
  'QuantizeLinear', 'DequantizeLinear', 'Gelu',
]);
/** reductions whose `axes` attribute became an input (ReduceSum at 13, the others at 18) */
const REDUCE_AXES_INPUT: Readonly<Record<string, number>> = {
  ReduceSum: 13, ReduceMean: 18, ReduceMax: 18, ReduceMin: 18, ReduceProd: 18, ReduceL1: 18, ReduceL2: 18,
  ReduceLogSum: 18, ReduceLogSumExp: 18, ReduceSumSquare: 18,
};

const int64 = (values: readonly number[]): AnyTensor => new Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
const f32 = (v: number): AnyTensor => new Tensor('float32', new Float32Array([v]), []);

type Attrs = Record<string, WriterAttribute>;
const without = (attrs: Attrs | undefined, ...names: string[]): Attrs => Object.fromEntries(Object.entries(attrs ?? {}).filter(([k]) => !names.includes(k)));
const ints = (a: WriterAttribute | undefined): number[] | undefined => (Array.isArray(a) ? (a as number[]) : undefined);
const num = (a: WriterAttribute | undefined): number | undefined => (typeof a === 'number' ? a : a && typeof a === 'object' && 'float' in a ? a.float : undefined);

export function upgradeOpset(m: WriterModel, target: number): WriterModel {
  const from = m.opsets?.[''] ?? m.opsets?.['ai.onnx'] ?? 1;
  if (from >= target) return m;
  if (from < 9) fail('UNSUPPORTED_FEATURE', `kiln compress needs ai.onnx opset >= 9, the model imports ${from}`);
  const inits = new Map(m.initializers instanceof Map ? m.initializers : Object.entries(m.initializers ?? {}));
  const stuck = new Map<string, string[]>();
  let counter = 0;
  const constant = (node: WriterNode, what: string, t: AnyTensor): string => {
    const name = `${node.name ?? node.opType}/${what}_${counter++}`;
    inits.set(name, t);
    return name;
  };
  const changed = (since: number): boolean => from < since && target >= since;
  const nodes: WriterNode[] = [];
  for (const n of m.nodes) {
    if (n.domain && n.domain !== 'ai.onnx') {
      nodes.push(n);
      continue;
    }
    const a = n.attrs;
    const op = n.opType;
    if (STABLE.has(op)) nodes.push(n);
    else if (op === 'Clip') {
      if (!changed(11)) nodes.push(n);
      else {
        const lo = num(a?.min);
        const hi = num(a?.max);
        nodes.push({ ...n, inputs: [n.inputs[0]!, lo === undefined ? '' : constant(n, 'min', f32(lo)), hi === undefined ? '' : constant(n, 'max', f32(hi))], attrs: without(a, 'min', 'max') });
      }
    } else if (op === 'Slice') {
      if (!changed(10)) nodes.push(n);
      else {
        const axes = ints(a?.axes);
        nodes.push({ ...n, inputs: [n.inputs[0]!, constant(n, 'starts', int64(ints(a?.starts) ?? [])), constant(n, 'ends', int64(ints(a?.ends) ?? [])), ...(axes ? [constant(n, 'axes', int64(axes))] : [])], attrs: {} });
      }
    } else if (op === 'Squeeze' || op === 'Unsqueeze') {
      const axes = ints(a?.axes);
      if (!changed(13) || !axes) nodes.push(n);
      else nodes.push({ ...n, inputs: [n.inputs[0]!, constant(n, 'axes', int64(axes))], attrs: without(a, 'axes') });
    } else if (op === 'Split') {
      let node = n;
      const split = ints(a?.split);
      if (changed(13) && split) node = { ...node, inputs: [node.inputs[0]!, constant(n, 'split', int64(split))], attrs: without(a, 'split') };
      // from 18 an equal split must say how many parts
      if (target >= 18 && !node.inputs[1] && !(node.attrs && 'num_outputs' in node.attrs)) node = { ...node, attrs: { ...node.attrs, num_outputs: node.outputs.length } };
      nodes.push(node);
    } else if (op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') {
      const axis = num(a?.axis) ?? 1;
      if (!changed(13) || axis === -1) nodes.push(n);
      else {
        // before 13: flatten to 2-D at `axis`, normalize each row; the same as Flatten -> op(axis -1) -> Reshape back
        const base = n.name ?? op;
        nodes.push(
          { opType: 'Shape', name: `${base}/shape`, inputs: [n.inputs[0]!], outputs: [`${base}/shape_out`] },
          { opType: 'Flatten', name: `${base}/flatten`, inputs: [n.inputs[0]!], outputs: [`${base}/flat`], attrs: { axis } },
          { ...n, inputs: [`${base}/flat`], outputs: [`${base}/flat_out`], attrs: { axis: -1 } },
          { opType: 'Reshape', name: `${base}/unflatten`, inputs: [`${base}/flat_out`, `${base}/shape_out`], outputs: [n.outputs[0]!] },
        );
      }
    } else if (op === 'Pad') {
      if (!changed(11)) nodes.push(n);
      else {
        const value = num(a?.value) ?? 0;
        nodes.push({ ...n, inputs: [n.inputs[0]!, constant(n, 'pads', int64(ints(a?.pads) ?? [])), constant(n, 'value', f32(value))], attrs: without(a, 'pads', 'value') });
      }
    } else if (op === 'Resize' || op === 'Upsample') {
      if (op === 'Resize' && !changed(11)) nodes.push(n);
      else {
        // opset 10 Resize / Upsample: asymmetric coordinates, nearest rounds down
        const mode = typeof a?.mode === 'string' ? a.mode : 'nearest';
        const scales = n.inputs[1] ?? (Array.isArray(a?.scales) ? constant(n, 'scales', new Tensor('float32', Float32Array.from(a.scales as number[]), [(a.scales as number[]).length])) : '');
        nodes.push({ ...n, opType: 'Resize', inputs: [n.inputs[0]!, '', scales], attrs: { mode, coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } });
      }
    } else if (op === 'Dropout') {
      nodes.push({ opType: 'Identity', name: n.name, inputs: [n.inputs[0]!], outputs: [n.outputs[0]!] });
    } else if (op in REDUCE_AXES_INPUT) {
      const axes = ints(a?.axes);
      if (!changed(REDUCE_AXES_INPUT[op]!) || !axes) nodes.push(n);
      else nodes.push({ ...n, inputs: [n.inputs[0]!, constant(n, 'axes', int64(axes))], attrs: without(a, 'axes') });
    } else {
      stuck.set(op, [...(stuck.get(op) ?? []), n.name ?? '?']);
      nodes.push(n);
    }
  }
  if (stuck.size > 0) {
    const list = [...stuck].map(([op, names]) => `${op} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''})`);
    fail('UNSUPPORTED_FEATURE', `quantized weights need ai.onnx opset ${target} and the model imports ${from}; kiln compress cannot upgrade these ops: ${list.join('; ')}`);
  }
  return { ...m, nodes, initializers: inits, opsets: { ...m.opsets, '': target } };
}
