import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[], range?: [number, number]): InputSpec => ({ dtype: 'float32', dims, ...(range ? { range } : {}) });
const positive = (dims: number[]): InputSpec => f32(dims, [0.1, 2]);
const cst = (values: number[], dims = [values.length]): InputSpec => ({ dtype: 'float32', dims, values });

const cases: OpCase[] = [
  // BatchNormalization (inference)
  { name: 'BatchNorm NCHW', op: 'BatchNormalization', attrs: { epsilon: 1e-3 }, inputs: [f32([2, 3, 4, 5]), f32([3]), f32([3]), f32([3]), positive([3])] },
  { name: 'BatchNorm NC (rank 2)', op: 'BatchNormalization', inputs: [f32([4, 6]), f32([6]), f32([6]), f32([6]), positive([6])] },
  { name: 'BatchNorm rank 1 ([N], one channel)', op: 'BatchNormalization', inputs: [f32([7]), f32([1]), f32([1]), f32([1]), positive([1])] },
  { name: 'BatchNorm 3-D spatial', op: 'BatchNormalization', inputs: [f32([1, 2, 3, 4, 5]), f32([2]), f32([2]), f32([2]), positive([2])] },
  { name: 'BatchNorm opset 7 spatial=0', op: 'BatchNormalization', opset: 7, attrs: { spatial: 0 }, inputs: [f32([2, 3, 4]), f32([3, 4]), f32([3, 4]), f32([3, 4]), positive([3, 4])] },
  { name: 'BatchNorm float16', op: 'BatchNormalization', inputs: [{ dtype: 'float16', dims: [2, 3, 4] }, { dtype: 'float16', dims: [3] }, { dtype: 'float16', dims: [3] }, { dtype: 'float16', dims: [3] }, { dtype: 'float16', dims: [3], range: [0.5, 2] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: 'BatchNorm large (2-D dispatch)', op: 'BatchNormalization', inputs: [f32([1, 4, 1100, 1000]), f32([4]), f32([4]), f32([4]), positive([4])] },
  // training mode runs on the CPU: the GPU path does not apply
  { name: 'BatchNorm training mode', op: 'BatchNormalization', opset: 15, outputs: 3, attrs: { training_mode: 1, momentum: 0.8 }, inputs: [f32([2, 3, 4]), f32([3]), f32([3]), f32([3]), positive([3])], gpu: false },
  // LayerNormalization
  { name: 'LayerNorm last axis', op: 'LayerNormalization', inputs: [f32([2, 3, 8]), f32([8]), f32([8])] },
  { name: 'LayerNorm with Mean and InvStdDev', op: 'LayerNormalization', outputs: 3, attrs: { axis: 1, epsilon: 0.1 }, inputs: [f32([2, 3, 5]), f32([3, 5]), f32([3, 5])] },
  { name: 'LayerNorm no bias', op: 'LayerNormalization', attrs: { axis: -2 }, inputs: [f32([4, 3, 5]), f32([3, 5])] },
  { name: 'LayerNorm broadcast scale', op: 'LayerNormalization', attrs: { axis: 1 }, inputs: [f32([2, 3, 5]), f32([1, 5]), f32([5])] },
  { name: 'LayerNorm axis 0 (one row)', op: 'LayerNormalization', outputs: 3, attrs: { axis: 0 }, inputs: [f32([3, 4]), f32([3, 4]), f32([3, 4])] },
  { name: 'LayerNorm long rows (workgroup per row)', op: 'LayerNormalization', outputs: 3, inputs: [f32([3, 7, 768]), f32([768]), f32([768])] },
  { name: 'LayerNorm rank 1', op: 'LayerNormalization', inputs: [f32([10]), f32([10]), f32([10])] },
  { name: 'LayerNorm many rows (2-D dispatch)', op: 'LayerNormalization', inputs: [f32([70000, 64]), f32([64]), f32([64])] },
  { name: 'LayerNorm float16', op: 'LayerNormalization', inputs: [{ dtype: 'float16', dims: [4, 16] }, { dtype: 'float16', dims: [16] }, { dtype: 'float16', dims: [16] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  // InstanceNormalization
  { name: 'InstanceNorm NCHW', op: 'InstanceNormalization', attrs: { epsilon: 0.01 }, inputs: [f32([2, 3, 4, 5]), f32([3]), f32([3])] },
  { name: 'InstanceNorm large spatial', op: 'InstanceNormalization', inputs: [f32([1, 4, 32, 32]), f32([4]), f32([4])] },
  { name: 'InstanceNorm rank 3', op: 'InstanceNormalization', inputs: [f32([2, 5, 7]), f32([5]), f32([5])] },
  // GroupNormalization
  { name: 'GroupNorm opset 21 per-channel', op: 'GroupNormalization', opset: 21, attrs: { num_groups: 2 }, inputs: [f32([3, 4, 2, 2]), f32([4]), f32([4])] },
  { name: 'GroupNorm opset 18 per-group', op: 'GroupNormalization', opset: 18, attrs: { num_groups: 3, epsilon: 0.01 }, inputs: [f32([2, 6, 5]), f32([3]), f32([3])] },
  { name: 'GroupNorm long groups', op: 'GroupNormalization', opset: 21, attrs: { num_groups: 4 }, inputs: [f32([2, 8, 16, 16]), f32([8]), f32([8])] },
  // LpNormalization
  { name: 'LpNorm p=2 last axis', op: 'LpNormalization', inputs: [f32([3, 4, 5])] },
  { name: 'LpNorm p=1 axis 0', op: 'LpNormalization', attrs: { p: 1, axis: 0 }, inputs: [f32([3, 4, 5])] },
  // The wasm kernels (kernels/wasm/src/normalization.c): rows with tails, no bias, trailing axes
  { name: 'LayerNorm wasm odd rows', op: 'LayerNormalization', inputs: [f32([3, 7, 13]), f32([13]), f32([13])], wasmKernel: true },
  { name: 'LayerNorm wasm no bias, two axes', op: 'LayerNormalization', attrs: { axis: -2, epsilon: 0.01 }, inputs: [f32([4, 3, 5]), f32([3, 5])], wasmKernel: true },
  { name: 'LayerNorm wasm BERT row', op: 'LayerNormalization', inputs: [f32([2, 5, 768], [-3, 5]), f32([768]), f32([768])], wasmKernel: true },
  { name: 'LayerNorm wasm offset rows', op: 'LayerNormalization', inputs: [f32([6, 33], [10, 11]), f32([33]), f32([33])], wasmKernel: true },
  // rows far from 0 (values in [100, 101)): the GPU once lost their variation to f32 rounding of x - mean (1.5e-3 relative)
  { name: 'LayerNorm rows far from 0', op: 'LayerNormalization', inputs: [f32([6, 33], [100, 101]), f32([33]), f32([33])] },
  { name: 'LayerNorm long rows far from 0', op: 'LayerNormalization', inputs: [f32([4, 300], [100, 101]), f32([300]), f32([300])] },
  { name: 'InstanceNorm far from 0', op: 'InstanceNormalization', inputs: [f32([2, 3, 40], [100, 101]), f32([3]), f32([3])] },
  // BatchNorm with constant statistics (initializers), folded to a per-channel multiply-add on wasm
  { name: 'BatchNorm wasm NCHW odd spatial', op: 'BatchNormalization', attrs: { epsilon: 1e-3 }, inputs: [f32([2, 3, 5, 3]), cst([0.5, -1.5, 2]), cst([0.1, 0, -0.3]), cst([0.2, -0.4, 1.5]), cst([0.3, 1.7, 0.05])], wasmKernel: true },
  { name: 'BatchNorm wasm rank 2', op: 'BatchNormalization', inputs: [f32([5, 3]), cst([1, 2, 3]), cst([0, 1, 0]), cst([1, 0, -1]), cst([0.5, 2, 4])], wasmKernel: true },
  { name: 'BatchNorm wasm opset 7 spatial=0', op: 'BatchNormalization', opset: 7, attrs: { spatial: 0 }, inputs: [f32([2, 2, 3]), cst([1, 2, 3, 4, 5, 6], [2, 3]), cst([0, 1, 0, 1, 0, 1], [2, 3]), cst([1, 0, -1, 2, 0, 1], [2, 3]), cst([0.5, 2, 4, 1, 1, 3], [2, 3])], wasmKernel: true },
  { name: 'InstanceNorm wasm odd spatial', op: 'InstanceNormalization', inputs: [f32([2, 3, 5, 3]), f32([3]), f32([3])], wasmKernel: true },
  { name: 'InstanceNorm wasm rank 3', op: 'InstanceNormalization', attrs: { epsilon: 0.1 }, inputs: [f32([2, 5, 2]), f32([5]), f32([5])], wasmKernel: true },
];

runOpCases('normalization', cases);
// Rows of 64 or more take the workgroup-per-row form on hardware GPUs.

runBadInputCases('normalization', [
  { name: 'BatchNorm wrong scale size', op: 'BatchNormalization', inputs: [f32([2, 3, 4]), f32([4]), f32([3]), f32([3]), f32([3])], error: /scale has shape \[4\], expected 3/ },
  { name: 'LayerNorm scale does not broadcast', op: 'LayerNormalization', inputs: [f32([2, 3]), f32([4])], error: /Scale shape \[4\] does not broadcast to the normalized shape \[3\]/ },
  { name: 'GroupNorm groups do not divide channels', op: 'GroupNormalization', opset: 21, attrs: { num_groups: 3 }, inputs: [f32([1, 4, 2]), f32([4]), f32([4])], error: /num_groups 3 must be a positive divisor of the channel count 4/ },
  { name: 'BatchNorm opset 9 training outputs', op: 'BatchNormalization', opset: 9, outputs: 5, inputs: [f32([2, 3, 4]), f32([3]), f32([3]), f32([3]), f32([3])], error: /training mode \(5 outputs\) before opset 14 is not supported/ },
  { name: 'InstanceNorm rank 1', op: 'InstanceNormalization', inputs: [f32([4]), f32([4]), f32([4])], error: /rank >= 2/ },
]);
