// The float model `kiln compress` quantizes: the source ONNX with Constant nodes turned into
// initializers, Identity/Dropout removed and BatchNormalization folded into the Conv before it (the
// steps onnxruntime's quant_pre_process performs: a folded weight is what gets quantized, and a
// Conv -> BN pair would otherwise need an activation QDQ between them), then raised to the opset
// the quantization nodes need.
import type { AnyTensor } from '../../core/tensor.ts';
import type { WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Graph, Model } from '../../runtime/graph/ir.ts';
import { foldBatchNorm } from '../../runtime/graph/passes/fold-conv-affine.ts';
import { removeDeadNodes } from '../../runtime/graph/passes/remove-dead-nodes.ts';
import { removeIdentities } from '../../runtime/graph/passes/remove-identity.ts';
import { attributeTypes, toWriterModel } from './onnx-to-writer.ts';
import { upgradeOpset } from './opset-upgrade.ts';

export function prepareFloatModel(bytes: Uint8Array, model: Model, opset: number): WriterModel {
  const types = attributeTypes(bytes, model);
  const src = model.graph;
  const initializers = new Map<string, AnyTensor>(src.initializers);
  const nodes = src.nodes.filter((n) => {
    const value = n.opType === 'Constant' && !n.domain ? n.attrs.tensor('value') : undefined;
    if (!value || !n.outputs[0]) return true;
    initializers.set(n.outputs[0], value);
    return false;
  });
  const graph: Graph = { ...src, nodes, initializers };
  removeIdentities(graph);
  foldBatchNorm(graph);
  removeDeadNodes(graph);
  return upgradeOpset(toWriterModel(model, graph, types), opset);
}
