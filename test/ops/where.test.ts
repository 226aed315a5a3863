import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const t = (dtype: DataType, dims: number[]): InputSpec => ({ dtype, dims });
const cond = (dims: number[]): InputSpec => t('bool', dims);

const cases: OpCase[] = [
  { name: 'same shape', op: 'Where', inputs: [cond([3, 4, 5]), t('float32', [3, 4, 5]), t('float32', [3, 4, 5])], wasmKernel: true },
  { name: 'condition broadcast', op: 'Where', inputs: [cond([4, 1]), t('float32', [4, 6]), t('float32', [4, 6])], wasmKernel: true },
  { name: 'three-way broadcast', op: 'Where', inputs: [cond([1, 5, 1]), t('float32', [3, 1, 1]), t('float32', [7])], wasmKernel: true },
  { name: 'scalar branches', op: 'Where', inputs: [cond([2, 3]), t('float32', []), t('float32', [])], wasmKernel: true },
  { name: 'rank 0', op: 'Where', inputs: [cond([]), t('float32', []), t('float32', [])], wasmKernel: true },
  { name: 'int32', op: 'Where', inputs: [cond([10]), t('int32', [10]), t('int32', [1])], wasmKernel: true },
  { name: 'int64', op: 'Where', inputs: [cond([10]), t('int64', [10]), t('int64', [10])], wasmKernel: true },
  { name: 'uint8', op: 'Where', inputs: [cond([10]), t('uint8', [10]), t('uint8', [10])], wasmKernel: true },
  { name: 'bool', op: 'Where', inputs: [cond([10]), cond([10]), cond([10])], wasmKernel: true },
  { name: 'float16', op: 'Where', inputs: [cond([2, 9]), t('float16', [9]), t('float16', [2, 1])] },
  { name: 'large (2-D dispatch)', op: 'Where', inputs: [cond([2048]), t('float32', [2100, 2048]), t('float32', [2100, 1])], wasmKernel: true },
  // the vec4 form (element count % 4 == 0) with one-element operands in each position
  { name: 'vec4 form scalar branch', op: 'Where', inputs: [cond([4, 4]), t('float32', [4, 4]), t('float32', [])], wasmKernel: true },
  { name: 'vec4 form one-element condition', op: 'Where', inputs: [cond([]), t('float32', [8]), t('float32', [8])], wasmKernel: true },
  { name: 'vec4 form bool', op: 'Where', inputs: [cond([12]), cond([12]), cond([1])], wasmKernel: true },
  { name: 'vec4 form int8', op: 'Where', inputs: [cond([16]), t('int8', [16]), t('int8', [16])], wasmKernel: true },
  // the wasm kernel's walk: broadcast on every operand at once, odd sizes, 4-D, int64 and int8 branches
  { name: 'wasm 4-D three-way broadcast odd', op: 'Where', inputs: [cond([3, 1, 5, 1]), t('float32', [1, 7, 1, 3]), t('float32', [3, 7, 5, 1])], wasmKernel: true },
  { name: 'wasm int64 broadcast', op: 'Where', inputs: [cond([5, 1]), t('int64', [1, 9]), t('int64', [5, 9])], wasmKernel: true },
  // 4 lanes at a time (where.c select4): a mask row over a scalar and a full branch, tails of 1-3
  { name: 'wasm mask row, scalar X, odd', op: 'Where', inputs: [cond([1, 1, 7]), t('float32', []), t('float32', [2, 3, 7])], wasmKernel: true },
  { name: 'wasm int32 same shape odd', op: 'Where', inputs: [cond([13]), t('int32', [13]), t('int32', [13])], wasmKernel: true },
  { name: 'wasm mask row, scalar Y, tail 1', op: 'Where', inputs: [cond([2, 9]), t('float32', [2, 9]), t('float32', [1])], wasmKernel: true },
  { name: 'wasm int8 scalar condition', op: 'Where', inputs: [cond([1]), t('int8', [3, 5]), t('int8', [5])], wasmKernel: true },
  // float64 has no GPU storage: runs on the CPU by design
  { name: 'float64', op: 'Where', inputs: [cond([5]), t('float64', [5]), t('float64', [5])], gpu: false },
];

runOpCases('where', cases);

runBadInputCases('where', [
  { name: 'non-bool condition', op: 'Where', inputs: [t('float32', [3]), t('float32', [3]), t('float32', [3])], error: /condition type float32 is not one of bool/, wasmKernel: true },
  { name: 'branches of different types', op: 'Where', inputs: [cond([3]), t('float32', [3]), t('int32', [3])], error: /different types \(float32, int32\)/, wasmKernel: true },
  { name: 'shapes that do not broadcast', op: 'Where', inputs: [cond([3]), t('float32', [4]), t('float32', [3])], error: /shapes \[3\] and \[4\] and \[3\] do not broadcast/, wasmKernel: true },
]);
