import type { DataType } from '../../core/dtype.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const t = (dtype: DataType, dims: number[]): InputSpec => ({ dtype, dims });
const f32 = (dims: number[]): InputSpec => t('float32', dims);

const cases: OpCase[] = ['Sum', 'Mean', 'Max', 'Min'].flatMap((op): OpCase[] => [
  { name: `${op} one input`, op, inputs: [f32([3, 4])] },
  { name: `${op} two same shape`, op, inputs: [f32([3, 4]), f32([3, 4])] },
  { name: `${op} three broadcast`, op, inputs: [f32([2, 1, 4]), f32([3, 1]), f32([])] },
  { name: `${op} seven inputs`, op, inputs: Array.from({ length: 7 }, (_, i) => f32(i % 2 ? [5] : [2, 5])) },
  { name: `${op} rank 0`, op, inputs: [f32([]), f32([])] },
  { name: `${op} float16`, op, inputs: [t('float16', [4, 6]), t('float16', [6])], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  // more inputs than a shader can bind: runs on the CPU by design
  { name: `${op} nine inputs`, op, inputs: Array.from({ length: 9 }, () => f32([4])), gpu: false },
]).concat([
  { name: 'Max int32', op: 'Max', inputs: [t('int32', [20]), t('int32', [20]), t('int32', [1])] },
  { name: 'Min uint8', op: 'Min', inputs: [t('uint8', [20]), t('uint8', [20])] },
  { name: 'Max int64', op: 'Max', inputs: [t('int64', [20]), t('int64', [20])] },
  { name: 'Sum large (2-D dispatch)', op: 'Sum', inputs: [f32([2100, 2048]), f32([2048])] },
]);

runOpCases('variadic', cases);

runBadInputCases('variadic', [
  { name: 'Sum of integers', op: 'Sum', inputs: [t('int32', [3]), t('int32', [3])], error: /type int32 is not one of float32/ },
  { name: 'Max of mixed types', op: 'Max', inputs: [f32([3]), t('int32', [3])], error: /different types \(float32, int32\)/ },
  { name: 'Min of non-broadcasting shapes', op: 'Min', inputs: [f32([3]), f32([4])], error: /do not broadcast/ },
]);
