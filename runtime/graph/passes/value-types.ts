import type { DataType } from '../../../core/dtype.ts';
import { DQ_SCALE_ATTR, LOOKUP_ATTR } from '../../../kernels/qlinear-conv/fused-io-attrs.ts';
import type { Graph, Node } from '../ir.ts';

// Ops whose every output has the type of input 0 (Where: input 1). A pass that needs to know a
// value is float32 before the plan exists reads it from here; unknown stays unknown (not fused).
const SAME_AS_FIRST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'PRelu', 'Clip', 'Neg', 'Abs', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf',
  'Sqrt', 'Exp', 'Log', 'HardSigmoid', 'HardSwish', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Softsign', 'Mish', 'ThresholdedRelu', 'Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Reshape', 'Transpose',
  'Concat', 'Slice', 'Squeeze', 'Unsqueeze', 'Flatten', 'Expand', 'Gather', 'Softmax', 'LogSoftmax', 'LayerNormalization',
  'BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'AveragePool', 'GlobalAveragePool', 'MaxPool', 'GlobalMaxPool',
  'Resize', 'Pad', 'Tile', 'Split', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'Identity', 'Sum', 'Max',
  'Min', 'Mean', 'DepthToSpace', 'SpaceToDepth',
]);
const BOOL_OUT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const ONNX_CODES: Readonly<Record<number, DataType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };

function outputType(n: Node, types: ReadonlyMap<string, DataType>): DataType | undefined {
  // the WebGPU attention recognition's op (recognize-attention.ts): the query's type
  if (n.domain === 'com.microsoft' && n.opType === 'MultiHeadAttention') return types.get(n.inputs[0] ?? '');
  // the QDQ lowering's ops: a Conv over float X with a packed weight; the 4-bit MatMul's A; a fake quantization's scale
  if ((n.domain === 'kiln' && n.opType === 'DequantConv') || (n.domain === 'com.microsoft' && n.opType === 'MatMulNBits')) return types.get(n.inputs[0] ?? '');
  if (n.domain === 'kiln' && n.opType === 'QuantizeDequantize') return types.get(n.inputs[1] ?? '');
  if (n.domain !== '') return undefined;
  // a QLinearConv / QLinearMatMul that stores its dequantized result or a lookup table's values
  // (fuse-qdq-webgpu.ts folded the DequantizeLinear or QLinearLookup in: a float table is HardSigmoid's)
  if (n.opType === 'QLinearConv' || n.opType === 'QLinearMatMul') {
    if (n.attrs.has(DQ_SCALE_ATTR)) return 'float32';
    const table = n.attrs.has(LOOKUP_ATTR) ? n.attrs.tensor(LOOKUP_ATTR) : undefined;
    if (table) return table.type;
  }
  if (SAME_AS_FIRST.has(n.opType)) return types.get(n.inputs[0] ?? '');
  if (n.opType === 'Where') return types.get(n.inputs[1] ?? '');
  if (BOOL_OUT.has(n.opType)) return 'bool';
  if (n.opType === 'Shape' || n.opType === 'Size') return 'int64';
  if (n.opType === 'Cast') return ONNX_CODES[n.attrs.int('to', 0)];
  return undefined;
}

/**
 * The element type of every value that can be told from the graph alone: graph inputs,
 * initializers, value_info, then forward through the ops above (nodes in topological order).
 * `moreRules` adds a pass's own knowledge (output 0's type of ops this table does not know).
 */
export function knownTypes(graph: Graph, moreRules?: (n: Node, types: ReadonlyMap<string, DataType>) => DataType | undefined): Map<string, DataType> {
  const types = new Map<string, DataType>();
  for (const i of graph.inputs) types.set(i.name, i.dtype);
  for (const [name, t] of graph.initializers) types.set(name, t.type);
  for (const [name, v] of graph.valueInfo) types.set(name, v.dtype);
  for (const n of graph.nodes) {
    const t = outputType(n, types) ?? moreRules?.(n, types);
    if (t === undefined) continue;
    // only output 0 (MaxPool's indices, LayerNormalization's statistics have types of their own), except Split's
    for (const o of n.opType === 'Split' ? n.outputs : n.outputs.slice(0, 1)) if (o && !types.has(o)) types.set(o, t);
  }
  return types;
}
