import { runOpCases, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]) => ({ dtype: 'float32' as const, dims });
const i32 = (dims: number[]) => ({ dtype: 'int32' as const, dims });

const cases: OpCase[] = [
  ...['Add', 'Sub', 'Mul', 'Div'].flatMap((op): OpCase[] => [
    { name: `${op} same shape`, op, inputs: [f32([3, 4, 5]), { ...f32([3, 4, 5]), range: [0.5, 2] }] },
    { name: `${op} broadcast row`, op, inputs: [f32([2, 3, 4]), { ...f32([4]), range: [0.5, 2] }] },
    { name: `${op} broadcast both`, op, inputs: [f32([2, 1, 4]), { ...f32([3, 1]), range: [0.5, 2] }] },
    { name: `${op} scalar`, op, inputs: [f32([7, 9]), { ...f32([]), range: [0.5, 2] }] },
    { name: `${op} int32`, op, inputs: [i32([5, 6]), { ...i32([6]), range: [1, 9] }] },
  ]),
  { name: 'Pow negative base, integral exponent', op: 'Pow', inputs: [f32([4, 4]), { dtype: 'float32', dims: [4], values: [2, 3, -1, 0] }] },
  { name: 'Pow positive base', op: 'Pow', inputs: [{ ...f32([4, 4]), range: [0.1, 3] }, f32([4, 4])] },
  { name: 'Greater broadcast', op: 'Greater', inputs: [f32([3, 4]), f32([4])] },
  { name: 'Equal int', op: 'Equal', inputs: [{ ...i32([64]), range: [0, 3] }, { ...i32([64]), range: [0, 3] }] },
  { name: 'Add large (2-D dispatch)', op: 'Add', inputs: [f32([1100, 4096]), f32([4096])] },
];

runOpCases('elementwise-binary', cases);
