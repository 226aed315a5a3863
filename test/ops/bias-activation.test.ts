import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });
const f16 = (dims: number[]): InputSpec => ({ dtype: 'float16', dims });
const MS = 'com.microsoft';
const F16_TOL = { rtol: 2e-3, atol: 2e-3 };

const cases: OpCase[] = [
  { name: 'FastGelu with bias', op: 'FastGelu', domain: MS, inputs: [f32([2, 3, 7], [-5, 5]), f32([7])] , wasmKernel: true },
  { name: 'FastGelu without bias, rank 1', op: 'FastGelu', domain: MS, inputs: [f32([33], [-6, 6])] , wasmKernel: true },
  { name: 'FastGelu float16', op: 'FastGelu', domain: MS, inputs: [f16([4, 10]), f16([10])], tolerance: F16_TOL },
  { name: 'BiasGelu', op: 'BiasGelu', domain: MS, inputs: [f32([3, 5, 9], [-5, 5]), f32([9])] , wasmKernel: true },
  { name: 'BiasGelu float16', op: 'BiasGelu', domain: MS, inputs: [f16([2, 12]), f16([12])], tolerance: F16_TOL },
  { name: 'QuickGelu default alpha', op: 'QuickGelu', domain: MS, inputs: [f32([4, 11], [-8, 8])] , wasmKernel: true },
  { name: 'QuickGelu alpha 1.0', op: 'QuickGelu', domain: MS, attrs: { alpha: 1.0 }, inputs: [f32([2, 3, 5], [-8, 8])] , wasmKernel: true },
  { name: 'QuickGelu float16', op: 'QuickGelu', domain: MS, inputs: [f16([3, 8])], tolerance: F16_TOL },
  { name: 'BiasAdd', op: 'BiasAdd', domain: MS, inputs: [f32([2, 3, 32]), f32([32]), f32([2, 3, 32])] },
  { name: 'BiasAdd odd channels', op: 'BiasAdd', domain: MS, inputs: [f32([1, 5, 13]), f32([13]), f32([1, 5, 13])] },
  { name: 'BiasSplitGelu', op: 'BiasSplitGelu', domain: MS, inputs: [f32([2, 3, 20], [-4, 4]), f32([20])] },
  { name: 'BiasSplitGelu float16', op: 'BiasSplitGelu', domain: MS, inputs: [f16([1, 4, 16]), f16([16])], tolerance: F16_TOL },
];

runOpCases('bias-activation', cases);

runBadInputCases('bias-activation', [
  { name: 'FastGelu bias of the wrong size', op: 'FastGelu', domain: MS, inputs: [f32([2, 6]), f32([5])], error: /bias must be 1-D with the input's last dimension \(6\)/ },
  { name: 'FastGelu bias of another type', op: 'FastGelu', domain: MS, inputs: [f32([2, 6]), f16([6])], error: /bias type float16 differs from the input type float32/ },
  { name: 'BiasGelu without bias', op: 'BiasGelu', domain: MS, inputs: [f32([2, 6])], error: /required input bias/ },
  { name: 'BiasSplitGelu odd last dimension', op: 'BiasSplitGelu', domain: MS, inputs: [f32([1, 2, 5]), f32([5])], error: /even last dimension/ },
  { name: 'BiasAdd skip shape', op: 'BiasAdd', domain: MS, inputs: [f32([1, 2, 4]), f32([4]), f32([2, 2, 4])], error: /skip must have the input's shape/ },
]);
