import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// Reference only: the node runs on the CPU in WebGPU sessions (gpu: false).
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const lens = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values, feed: true });

const cases: OpCase[] = [
  { name: 'time-major', op: 'ReverseSequence', gpu: false, inputs: [f32(5, 3, 2), lens([5, 1, 3])] },
  { name: 'batch-major', op: 'ReverseSequence', gpu: false, attrs: { time_axis: 1, batch_axis: 0 }, inputs: [f32(3, 6), lens([2, 6, 4])] },
  { name: 'int64 data', op: 'ReverseSequence', gpu: false, inputs: [{ dtype: 'int64', dims: [4, 2, 3] }, lens([3, 4])] },
];

runOpCases('reverse-sequence', cases);

runBadInputCases('reverse-sequence', [
  { name: 'lengths', op: 'ReverseSequence', inputs: [f32(4, 2), { dtype: 'int64', dims: [3], values: [1, 2, 3] }], error: /sequence_lens must be \[2\]/ },
  { name: 'axes', op: 'ReverseSequence', attrs: { time_axis: 1, batch_axis: 1 }, inputs: [f32(4, 2), { dtype: 'int64', dims: [2], values: [1, 2] }], error: /time_axis\/batch_axis 0 and 1/ },
]);
