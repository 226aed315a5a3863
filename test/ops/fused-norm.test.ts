import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });
const f16 = (dims: number[]): InputSpec => ({ dtype: 'float16', dims });
const omit: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const MS = 'com.microsoft';
const F16_TOL = { rtol: 2e-3, atol: 2e-3 };

const cases: OpCase[] = [
  // SkipLayerNormalization: input, skip, gamma, beta?, bias?; outputs output, mean, inv_std_var, input_skip_bias_sum
  { name: 'SkipLayerNorm all inputs and outputs', op: 'SkipLayerNormalization', domain: MS, outputs: 4, attrs: { epsilon: 1e-5 }, inputs: [f32([2, 3, 16]), f32([2, 3, 16]), f32([16]), f32([16]), f32([16])] , wasmKernel: true },
  { name: 'SkipLayerNorm default epsilon, no beta, no bias', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([2, 5, 7]), f32([2, 5, 7]), f32([7])] },
  { name: 'SkipLayerNorm bias without beta', op: 'SkipLayerNormalization', domain: MS, outputs: 4, inputs: [f32([3, 9]), f32([3, 9]), f32([9]), omit, f32([9])] , wasmKernel: true },
  { name: 'SkipLayerNorm skip (1, S, H) broadcast over batch', op: 'SkipLayerNormalization', domain: MS, outputs: 4, inputs: [f32([3, 4, 13]), f32([1, 4, 13]), f32([13]), f32([13]), f32([13])] , wasmKernel: true },
  { name: 'SkipLayerNorm skip (S, H) broadcast over batch', op: 'SkipLayerNormalization', domain: MS, outputs: 4, inputs: [f32([2, 4, 13]), f32([4, 13]), f32([13]), f32([13])] , wasmKernel: true },
  { name: 'SkipLayerNorm BERT hidden 768', op: 'SkipLayerNormalization', domain: MS, outputs: 4, attrs: { epsilon: 1e-12 }, inputs: [f32([1, 5, 768]), f32([1, 5, 768]), f32([768]), f32([768]), f32([768])] , wasmKernel: true },
  { name: 'SkipLayerNorm float16', op: 'SkipLayerNormalization', domain: MS, outputs: 4, inputs: [f16([2, 3, 24]), f16([2, 3, 24]), f16([24]), f16([24]), f16([24])], tolerance: F16_TOL },
  { name: 'SkipLayerNorm rows far from 0', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([4, 33], [50, 51]), f32([4, 33], [50, 51]), f32([33]), f32([33])], tolerance: { rtol: 1e-3, atol: 1e-3 } , wasmKernel: true },
  // SkipSimplifiedLayerNormalization: input, skip, gamma, bias?
  { name: 'SkipSimplifiedLayerNorm with bias, all outputs', op: 'SkipSimplifiedLayerNormalization', domain: MS, outputs: 4, attrs: { epsilon: 1e-6 }, inputs: [f32([2, 3, 11]), f32([2, 3, 11]), f32([11]), f32([11])] , wasmKernel: true },
  { name: 'SkipSimplifiedLayerNorm no bias, skip (S, H)', op: 'SkipSimplifiedLayerNormalization', domain: MS, inputs: [f32([3, 2, 10]), f32([2, 10]), f32([10])] , wasmKernel: true },
  { name: 'SkipSimplifiedLayerNorm float16', op: 'SkipSimplifiedLayerNormalization', domain: MS, outputs: 4, inputs: [f16([2, 2, 32]), f16([2, 2, 32]), f16([32]), f16([32])], tolerance: F16_TOL },
  // SimplifiedLayerNormalization: ai.onnx (as onnxruntime registers it) and com.microsoft
  { name: 'SimplifiedLayerNorm last axis with inv_std_var', op: 'SimplifiedLayerNormalization', outputs: 2, attrs: { epsilon: 1e-6 }, inputs: [f32([2, 3, 17]), f32([17])] , wasmKernel: true },
  { name: 'SimplifiedLayerNorm axis 1, scale broadcast', op: 'SimplifiedLayerNormalization', outputs: 2, attrs: { axis: 1 }, inputs: [f32([2, 3, 5]), f32([1, 5])] },
  { name: 'SimplifiedLayerNorm com.microsoft domain', op: 'SimplifiedLayerNormalization', domain: MS, inputs: [f32([4, 19]), f32([19])] , wasmKernel: true },
  { name: 'SimplifiedLayerNorm float16', op: 'SimplifiedLayerNormalization', inputs: [f16([3, 40]), f16([40])], tolerance: F16_TOL },
  // RMSNormalization (opset 23)
  { name: 'RMSNorm default axis', op: 'RMSNormalization', opset: 23, inputs: [f32([2, 3, 9]), f32([9])] , wasmKernel: true },
  { name: 'RMSNorm axis 1 epsilon', op: 'RMSNormalization', opset: 23, attrs: { axis: 1, epsilon: 0.1 }, inputs: [f32([2, 3, 4]), f32([3, 4])] , wasmKernel: true },
  { name: 'RMSNorm axis 0 (one row)', op: 'RMSNormalization', opset: 23, attrs: { axis: 0 }, inputs: [f32([3, 5]), f32([3, 5])] },
  { name: 'RMSNorm scale broadcast over the first normalized axis', op: 'RMSNormalization', opset: 23, attrs: { axis: -2 }, inputs: [f32([2, 4, 6]), f32([1, 6])] },
  { name: 'RMSNorm float16', op: 'RMSNormalization', opset: 23, inputs: [f16([5, 12]), f16([12])], tolerance: F16_TOL },
  // a scale that broadcasts along an inner axis: the GPU declines it, the CPU runs it
  { name: 'RMSNorm scale [3, 1] (CPU path)', op: 'RMSNormalization', opset: 23, attrs: { axis: 1 }, inputs: [f32([2, 3, 4]), f32([3, 1])], gpu: false },
  // long rows: a workgroup per row on hardware GPUs (below, with the hardware kernel forms)
  { name: 'SkipSimplifiedLayerNorm long rows', op: 'SkipSimplifiedLayerNormalization', domain: MS, outputs: 4, inputs: [f32([2, 3, 100]), f32([3, 100]), f32([100]), f32([100])] },
  { name: 'SimplifiedLayerNorm long rows with inv_std_var', op: 'SimplifiedLayerNormalization', outputs: 2, inputs: [f32([3, 130]), f32([130])] },
  { name: 'RMSNorm long rows', op: 'RMSNormalization', opset: 23, inputs: [f32([4, 257]), f32([257])] , wasmKernel: true },
];

runOpCases('fused-norm', cases);

runBadInputCases('fused-norm', [
  { name: 'SkipLayerNorm gamma of the wrong size', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([2, 3, 8]), f32([2, 3, 8]), f32([7])], error: /gamma must have shape \[8\]/ },
  { name: 'SkipLayerNorm skip that does not broadcast', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([2, 3, 8]), f32([2, 1, 8]), f32([8])], error: /skip shape \[2, 1, 8\] must equal the input shape/ },
  { name: 'SkipLayerNorm skip of another type', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([2, 8]), f16([2, 8]), f32([8])], error: /skip type float16 differs from the input type float32/ },
  { name: 'SkipLayerNorm rank 4 input', op: 'SkipLayerNormalization', domain: MS, inputs: [f32([1, 2, 3, 8]), f32([1, 2, 3, 8]), f32([8])], error: /rank 2 or 3/ },
  { name: 'RMSNorm scale that does not broadcast', op: 'RMSNormalization', opset: 23, inputs: [f32([2, 6]), f32([4])], error: /scale shape \[4\] does not broadcast/ },
  { name: 'RMSNorm stash_type 0', op: 'RMSNormalization', opset: 23, attrs: { stash_type: 0 }, inputs: [f32([2, 6]), f32([6])], error: /stash_type 0 is not supported/ },
]);
