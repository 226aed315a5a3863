import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });

const cases: OpCase[] = [
  { name: 'LRN size 3 defaults', op: 'LRN', attrs: { size: 3 }, inputs: [f32(2, 7, 3, 4)] },
  { name: 'LRN even size 4, strong alpha', op: 'LRN', attrs: { size: 4, alpha: { float: 0.5 }, beta: { float: 0.6 }, bias: { float: 2 } }, inputs: [f32(1, 6, 5, 5)] },
  { name: 'LRN size larger than channels, 3-D input', op: 'LRN', attrs: { size: 7 }, inputs: [f32(2, 3, 9)] },
  { name: 'LRN size 1', op: 'LRN', attrs: { size: 1, alpha: { float: 0.1 } }, inputs: [f32(1, 4, 2, 2, 2)] },
  { name: 'MVN default axes (CPU)', op: 'MeanVarianceNormalization', gpu: false, inputs: [f32(2, 3, 4, 5)] },
  { name: 'MVN last axis (CPU)', op: 'MeanVarianceNormalization', gpu: false, attrs: { axes: [-1] }, inputs: [f32(3, 8)] },
];

runOpCases('lrn', cases);

runBadInputCases('lrn', [
  { name: 'LRN without size', op: 'LRN', inputs: [f32(1, 3, 4, 4)], error: /LRN needs the attribute size >= 1/ },
  { name: 'LRN rank 2', op: 'LRN', attrs: { size: 3 }, inputs: [f32(3, 4)], error: /rank >= 3/ },
  { name: 'MVN repeated axis', op: 'MeanVarianceNormalization', attrs: { axes: [1, -1] }, inputs: [f32(3, 4)], error: /repeat an axis/ },
]);
