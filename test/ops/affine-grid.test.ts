import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Reference only: the node runs on the CPU in WebGPU sessions (gpu: false).
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const size = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: '2-D', op: 'AffineGrid', opset: 20, gpu: false, inputs: [f32(2, 2, 3), size([2, 3, 4, 5])] },
  { name: '2-D align_corners, size-1 axis', op: 'AffineGrid', opset: 20, gpu: false, attrs: { align_corners: 1 }, inputs: [f32(1, 2, 3), size([1, 1, 1, 6])] },
  { name: '3-D', op: 'AffineGrid', opset: 20, gpu: false, inputs: [f32(2, 3, 4), size([2, 1, 3, 2, 4])] },
];

runOpCases('affine-grid', cases);

runBadInputCases('affine-grid', [
  { name: 'theta shape', op: 'AffineGrid', opset: 20, inputs: [f32(2, 3, 4), size([2, 3, 4, 5])], error: /theta \[N, 2, 3\]/ },
]);
