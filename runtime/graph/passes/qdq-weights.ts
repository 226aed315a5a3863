import { quantParamLayout, type QuantParamLayout } from '../../../kernels/common/quant.ts';
import { resolveDefinition } from '../../../kernels/definitions.ts';
import { jsKernelFor } from '../../../kernels/js/kernels.ts';
import type { AnyTensor } from '../../../core/tensor.ts';
import { KilnError } from '../../../core/errors.ts';
import type { Graph, Node } from '../ir.ts';
import type { GraphIndex } from './graph-index.ts';

/** A DequantizeLinear of a constant 8-bit or 4-bit weight: what the QDQ lowering rewrites. */
export interface ConstDequant {
  readonly dq: Node;
  readonly qName: string;
  readonly q: AnyTensor;
  readonly scaleName: string;
  readonly scale: AnyTensor;
  readonly zpName: string | undefined;
  readonly zp: AnyTensor | undefined;
  readonly layout: QuantParamLayout;
  /** the zero point is absent or all zeros */
  readonly symmetric: boolean;
  readonly bits: 8 | 4;
  readonly signed: boolean;
}

const WEIGHT_BITS: Readonly<Record<string, { bits: 8 | 4; signed: boolean }>> = {
  int8: { bits: 8, signed: true },
  uint8: { bits: 8, signed: false },
  int4: { bits: 4, signed: true },
  uint4: { bits: 4, signed: false },
};

/**
 * `value` is the output of DequantizeLinear(initializer Wq, initializer scale [, initializer
 * zero point]) with an 8/4-bit Wq and a float32 scale, in a layout DequantizeLinear accepts at the
 * model's opset. Anything else (a fed weight, a float16 scale, an invalid layout) is left to the
 * DequantizeLinear kernel, which reports its own errors.
 */
export function constDequant(graph: Graph, index: GraphIndex, value: string, opset: number): ConstDequant | undefined {
  const dq = index.producer.get(value);
  if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '') return undefined;
  const [qName, scaleName, zpName] = dq.inputs;
  const q = qName ? graph.initializers.get(qName) : undefined;
  const scale = scaleName ? graph.initializers.get(scaleName) : undefined;
  const zp = zpName ? graph.initializers.get(zpName) : undefined;
  const kind = q && WEIGHT_BITS[q.type];
  if (!q || !kind || !scale || scale.type !== 'float32' || (zpName && !zp) || (zp && zp.type !== q.type)) return undefined;
  if (dq.attrs.int('output_dtype', 0) !== 0 && dq.attrs.int('output_dtype', 0) !== 1) return undefined;
  let layout: QuantParamLayout;
  try {
    const meta = (t: AnyTensor) => ({ dtype: t.type, dims: t.dims });
    layout = quantParamLayout(meta(q), meta(scale), zp && meta(zp), { attrs: dq.attrs, opset, node: dq.name, host: [] }, 'x_scale');
  } catch (e) {
    if (e instanceof KilnError) return undefined;
    throw e;
  }
  const symmetric = !zp || (zp.data as Int8Array | Uint8Array).every((v) => v === 0);
  return { dq, qName: qName!, q, scaleName: scaleName!, scale, zpName: zpName || undefined, zp, layout, symmetric, ...kind };
}

/**
 * The float32 value of `name` when it is known before any run: a float32 initializer, or a
 * DequantizeLinear of initializers (onnxruntime's quantizer stores biases as int32 + scale).
 */
export function constFloat(graph: Graph, index: GraphIndex, name: string, opset: number): AnyTensor | undefined {
  const init = graph.initializers.get(name);
  if (init) return init.type === 'float32' ? init : undefined;
  const dq = index.producer.get(name);
  if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '') return undefined;
  const parts = dq.inputs.map((n) => (n ? graph.initializers.get(n) : undefined));
  if (!parts[0] || !parts[1] || (dq.inputs[2] && !parts[2])) return undefined;
  try {
    const out = jsKernelFor(resolveDefinition('', 'DequantizeLinear')!)(parts, { attrs: dq.attrs, opset, node: dq.name, host: [] })[0]!;
    return out.type === 'float32' ? out : undefined;
  } catch (e) {
    if (e instanceof KilnError) return undefined;
    throw e;
  }
}
