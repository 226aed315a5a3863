import type { AttributeValue } from '../../core/attributes.ts';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';

function writerAttr(v: AttributeValue): WriterAttribute {
  if (typeof v === 'number') return Number.isInteger(v) ? v : { float: v };
  if (typeof v === 'string' || v instanceof Tensor) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v.every(Number.isInteger) ? v : { floats: v };
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new Error('webgpuGraphModel: tensor-list and graph attributes are not needed by these tests');
}

/**
 * The graph a WebGPU session runs (the shared passes, then the WebGPU-only fusion) written back as
 * an ONNX model: run on the js backend with graphOptimizationLevel 'disabled', it shows what the
 * fused nodes' js kernels compute, to compare with the unfused graph on the same backend.
 */
export function webgpuGraphModel(bytes: Uint8Array): Uint8Array {
  const model = readOnnxModel(bytes);
  const g = optimizeForBackend(model, optimizeGraph(model), 'webgpu');
  const m: WriterModel = {
    nodes: g.nodes.map((n) => ({
      opType: n.opType, domain: n.domain, name: n.name, inputs: n.inputs, outputs: n.outputs,
      attrs: Object.fromEntries(n.attrs.names().map((k) => [k, writerAttr(n.attrs.raw(k)!)])),
    })),
    inputs: g.inputs.map((v) => ({ name: v.name, dtype: v.dtype, ...(v.dims ? { dims: v.dims } : {}) })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.dtype, ...(v.dims ? { dims: v.dims } : {}) })),
    initializers: g.initializers,
    opsets: { ...Object.fromEntries(model.opsets), kiln: 1 },
  };
  return encodeOnnxModel(m);
}
