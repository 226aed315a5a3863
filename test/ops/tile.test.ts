import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });

const cases: OpCase[] = [
  { name: 'Tile 2-D', op: 'Tile', inputs: [f32([2, 3]), i64([2, 3])] },
  { name: 'Tile rank 1', op: 'Tile', inputs: [f32([5]), i64([4])] },
  { name: 'Tile with ones', op: 'Tile', inputs: [f32([2, 1, 3]), i64([1, 4, 1])] },
  { name: 'Tile zero repeats', op: 'Tile', inputs: [f32([2, 3]), i64([0, 2])] },
  { name: 'Tile int32', op: 'Tile', inputs: [{ dtype: 'int32', dims: [3, 2] }, i64([2, 2])] },
  { name: 'Tile bool', op: 'Tile', inputs: [{ dtype: 'bool', dims: [3] }, i64([3])] },
  { name: 'Tile large (2-D dispatch)', op: 'Tile', inputs: [f32([64, 4096]), i64([17, 1])] },
];

runOpCases('tile', cases);

runBadInputCases('tile', [
  { name: 'repeats length', op: 'Tile', inputs: [f32([2, 3]), i64([2])], error: /repeats \[2\] must be 2 non-negative values/ },
]);
