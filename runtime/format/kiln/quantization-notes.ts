// How each quantized weight is dequantized, read off the graph (DequantizeLinear, MatMulNBits,
// QLinear*/…Integer ops): "int8 per-channel axis 0", "int4 block 32". The .kiln writer stores the
// note in the tensor table and `kiln inspect` prints it per layer; the runtime never relies on it.

export interface QuantNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  intAttr(name: string): number | undefined;
}

export interface TensorShape {
  readonly dtype: string;
  readonly dims: readonly number[];
}

export interface QuantNote {
  /** the quantized weight (an initializer) */
  readonly weight: string;
  /** the node that computes with it: the consumer of the DequantizeLinear, or the integer op itself */
  readonly layer: string;
  readonly scheme: string;
}

const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function scaleScheme(dtype: string, scale: TensorShape | undefined, rankOfX: number, axis: number | undefined, block: number | undefined): string {
  if (block !== undefined && block > 0) return `${dtype} block ${block}`;
  if (!scale || sizeOf(scale.dims) <= 1) return `${dtype} per-tensor`;
  const a = axis ?? 1;
  return `${dtype} per-channel axis ${a < 0 ? a + rankOfX : a}`;
}

export function quantizationNotes(nodes: readonly QuantNode[], tensorOf: (name: string) => TensorShape | undefined): QuantNote[] {
  const consumers = new Map<string, string>();
  for (const n of nodes) for (const i of n.inputs) if (i && !consumers.has(i)) consumers.set(i, n.name);
  const notes: QuantNote[] = [];
  const push = (weight: string | undefined, layer: string, scheme: (w: TensorShape) => string): void => {
    const w = weight ? tensorOf(weight) : undefined;
    if (weight && w) notes.push({ weight, layer, scheme: scheme(w) });
  };
  for (const n of nodes) {
    const domain = n.domain === 'ai.onnx' ? '' : n.domain;
    const [i0, i1, , i3, i4] = n.inputs;
    if (domain === '' && n.opType === 'DequantizeLinear') {
      push(i0, consumers.get(n.outputs[0] ?? '') ?? n.name, (w) => scaleScheme(w.dtype, i1 ? tensorOf(i1) : undefined, w.dims.length, n.intAttr('axis'), n.intAttr('block_size')));
    } else if (domain === 'com.microsoft' && n.opType === 'MatMulNBits') {
      push(i1, n.name, () => `${n.intAttr('bits') ?? 4}-bit block ${n.intAttr('block_size') ?? '?'} (MatMulNBits)`);
    } else if (domain === '' && (n.opType === 'QLinearConv' || n.opType === 'QLinearMatMul')) {
      push(i3, n.name, (w) => scaleScheme(w.dtype, i4 ? tensorOf(i4) : undefined, w.dims.length, n.opType === 'QLinearConv' ? 0 : w.dims.length - 1, undefined));
    } else if (domain === '' && (n.opType === 'ConvInteger' || n.opType === 'MatMulInteger')) {
      push(i1, n.name, (w) => `${w.dtype} (${n.opType})`);
    }
  }
  return notes;
}
