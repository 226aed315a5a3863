import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const writes = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values, feed: true });

const cases: OpCase[] = [
  { name: 'linear, KV cache [B, H, S, D]', op: 'TensorScatter', opset: 24, inputs: [f32(2, 3, 8, 4), f32(2, 3, 2, 4), writes([1, 6])] },
  { name: 'linear without write_indices', op: 'TensorScatter', opset: 24, inputs: [f32(2, 5, 3), f32(2, 3, 3)] },
  { name: 'circular wraps', op: 'TensorScatter', opset: 24, attrs: { mode: 'circular' }, inputs: [f32(3, 2, 6, 2), f32(3, 2, 4, 2), writes([4, 0, 5])] },
  { name: 'axis 1, last-axis data of 1', op: 'TensorScatter', opset: 24, attrs: { axis: 1 }, inputs: [f32(2, 7, 1), f32(2, 3, 1), writes([0, 4])] },
  { name: 'int64 cache', op: 'TensorScatter', opset: 24, inputs: [{ dtype: 'int64', dims: [1, 6, 2] }, { dtype: 'int64', dims: [1, 1, 2] }, writes([5])] },
];

runOpCases('tensor-scatter', cases);

runBadInputCases('tensor-scatter', [
  { name: 'update longer than the cache', op: 'TensorScatter', opset: 24, inputs: [f32(1, 4, 2), f32(1, 5, 2)], error: /must match past_cache \[1, 4, 2\] except a shorter axis 1/ },
  { name: 'batch axis', op: 'TensorScatter', opset: 24, attrs: { axis: 0 }, inputs: [f32(4, 2), f32(1, 2)], error: /cannot be the batch axis 0/ },
  { name: 'mode', op: 'TensorScatter', opset: 24, attrs: { mode: 'ring' }, inputs: [f32(1, 4, 2), f32(1, 1, 2)], error: /mode 'ring'/ },
]);
