import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const i64 = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
const value = (v: number): InputSpec => ({ dtype: 'float32', dims: [], values: [v] });

const cases: OpCase[] = [
  { name: 'Pad constant zero', op: 'Pad', inputs: [f32([3, 4]), i64([1, 2, 0, 3])] },
  { name: 'Pad constant value', op: 'Pad', inputs: [f32([3, 4]), i64([0, 1, 2, 1]), value(1.5)] },
  { name: 'Pad negative pads crop', op: 'Pad', inputs: [f32([5, 6]), i64([-1, 2, -2, -3]), value(-4)] },
  ...['reflect', 'edge', 'wrap'].flatMap((mode): OpCase[] => [
    { name: `Pad ${mode}`, op: 'Pad', attrs: { mode }, inputs: [f32([3, 4]), i64([2, 1, 1, 3])] },
    { name: `Pad ${mode} wider than the input`, op: 'Pad', attrs: { mode }, inputs: [f32([2, 3]), i64([5, 7, 4, 8])] },
    { name: `Pad ${mode} 4-D spatial`, op: 'Pad', attrs: { mode }, inputs: [f32([1, 2, 4, 5]), i64([0, 0, 1, 2, 0, 0, 2, 1])] },
  ]),
  { name: 'Pad reflect size-1 axis', op: 'Pad', attrs: { mode: 'reflect' }, inputs: [f32([1, 4]), i64([2, 1, 1, 1])] },
  { name: 'Pad axes input (opset 18)', op: 'Pad', opset: 18, inputs: [f32([2, 3, 4]), i64([1, 2, 3, 0]), value(2), i64([-1, 0])] },
  { name: 'Pad attributes (opset 2)', op: 'Pad', opset: 2, attrs: { pads: [1, 0, 0, 2], value: { float: 0.25 } }, inputs: [f32([3, 3])] },
  { name: 'Pad int32 constant', op: 'Pad', inputs: [{ dtype: 'int32', dims: [4] }, i64([2, 1]), { dtype: 'int32', dims: [], values: [-7] }] },
  { name: 'Pad int64 edge', op: 'Pad', attrs: { mode: 'edge' }, inputs: [{ dtype: 'int64', dims: [2, 2] }, i64([1, 1, 1, 1])] },
  { name: 'Pad large (2-D dispatch)', op: 'Pad', inputs: [f32([1100, 4000]), i64([0, 48, 0, 48])] },
];

runOpCases('pad', cases);

runBadInputCases('pad', [
  { name: 'pads length', op: 'Pad', inputs: [f32([3, 4]), i64([1, 1])], error: /Pad has 2 pads for 2 axes, expected 4/ },
  { name: 'unknown mode', op: 'Pad', attrs: { mode: 'mirror' }, inputs: [f32([3]), i64([1, 1])], error: /mode 'mirror' is not one of constant, reflect, edge, wrap/ },
  { name: 'crop below zero', op: 'Pad', inputs: [f32([3]), i64([-2, -2])], error: /crops axis 0 of size 3 below zero/ },
]);
