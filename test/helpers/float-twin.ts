// The float graph a QDQ model stands for, to compare the int8 model with (bench/node/webgpu-int8-dispatches.ts,
// test/graph/fake-quant-fusion.test.ts): what a QDQ model must not need more dispatches than.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { attributeTypes, toWriterModel } from '../../trainer-node/compress/onnx-to-writer.ts';

/** The float graph a QDQ model stands for: constant DQs evaluated (per tensor or per `axis`), activation Q -> DQ pairs dropped. */
export function floatTwin(bytes: Uint8Array): Uint8Array {
  const model = readOnnxModel(bytes);
  const w = toWriterModel(model, model.graph, attributeTypes(bytes, model));
  const inits = new Map(w.initializers instanceof Map ? w.initializers : Object.entries(w.initializers ?? {}));
  const rename = new Map<string, string>();
  const quantOf = new Map<string, string>();
  const nodes = w.nodes.filter((n) => {
    const x = inits.get(n.inputs[0]!);
    if (n.opType === 'DequantizeLinear' && x) {
      const s = inits.get(n.inputs[1]!)!.data as Float32Array;
      const z = n.inputs[2] ? inits.get(n.inputs[2])!.data : undefined;
      const axisAttr = n.attrs?.axis;
      const axis = ((typeof axisAttr === 'number' ? axisAttr : 1) + x.dims.length) % x.dims.length;
      const inner = x.dims.slice(axis + 1).reduce((a: number, d: number) => a * d, 1);
      const xv = x.data as ArrayLike<number>;
      const out = Float32Array.from({ length: xv.length }, (_, i) => {
        const c = s.length === 1 ? 0 : Math.floor(i / inner) % x.dims[axis]!;
        return (Number(xv[i]) - Number(z ? z[c] : 0)) * s[c]!;
      });
      inits.set(n.outputs[0]!, new Tensor('float32', out, [...x.dims]));
      return false;
    }
    if (n.opType === 'QuantizeLinear') { quantOf.set(n.outputs[0]!, n.inputs[0]!); return false; }
    if (n.opType === 'DequantizeLinear' && quantOf.has(n.inputs[0]!)) { rename.set(n.outputs[0]!, quantOf.get(n.inputs[0]!)!); return false; }
    return true;
  });
  const resolve = (v: string): string => rename.get(v) ?? v;
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = new Map<string, AnyTensor>([...inits].filter(([k]) => used.has(k)));
  return encodeOnnxModel({ ...w, nodes: nodes.map((n) => ({ ...n, inputs: n.inputs.map(resolve) })), initializers });
}

