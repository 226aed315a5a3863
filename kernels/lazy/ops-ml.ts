// Lazy op group 'ml': the ai.onnx.ml ops scikit-learn models use (skl2onnx). CPU references only: WebGPU and wasm sessions run them on the CPU. Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as treeEnsemble } from '../ml-tree-ensemble/op.ts';
import { definitions as linear } from '../ml-linear/op.ts';
import { definitions as preprocess } from '../ml-preprocess/op.ts';
import { definitions as labelEncoder } from '../ml-label-encoder/op.ts';

export const group: LazyOpGroup = {
  definitions: [...treeEnsemble, ...linear, ...preprocess, ...labelEncoder],
  js: [],
  webgpu: [],
};
