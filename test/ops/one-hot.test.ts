import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const depth = (v: number, dtype: 'int64' | 'float32' | 'int32' = 'int64'): InputSpec => ({ dtype, dims: [], values: [v] });
const onOff: InputSpec = { dtype: 'float32', dims: [2], values: [-0.5, 3] };
/** indices in [-12, 12) against depth 7: in range, negative, and out of range both ways */
const idx = (...dims: number[]): InputSpec => ({ dtype: 'int64', dims, range: [-12, 12] });

const cases: OpCase[] = [
  { name: 'last axis', op: 'OneHot', inputs: [idx(3, 4), depth(7), onOff] },
  { name: 'axis 0', op: 'OneHot', attrs: { axis: 0 }, inputs: [idx(5), depth(7), onOff] },
  { name: 'middle axis, negative', op: 'OneHot', attrs: { axis: -2 }, inputs: [idx(2, 3), depth(7), onOff] },
  { name: 'float indices and depth', op: 'OneHot', inputs: [{ dtype: 'float32', dims: [6], range: [-9, 9] }, depth(7.9, 'float32'), onOff] },
  { name: 'int32 indices, int64 values', op: 'OneHot', inputs: [{ dtype: 'int32', dims: [2, 5], range: [-8, 8] }, depth(7, 'int32'), { dtype: 'int64', dims: [2], values: [0, 1] }] },
  { name: 'scalar index', op: 'OneHot', inputs: [{ dtype: 'int64', dims: [], values: [-2], feed: true }, depth(5), onOff] },
  { name: 'values fed at run time', op: 'OneHot', inputs: [idx(4), depth(7), { dtype: 'float32', dims: [2] }] },
];

runOpCases('one-hot', cases);

runBadInputCases('one-hot', [
  { name: 'values not a pair', op: 'OneHot', inputs: [idx(3), depth(4), { dtype: 'float32', dims: [3], values: [0, 1, 2] }], error: /values must be \[off, on\]/ },
  { name: 'depth 0', op: 'OneHot', inputs: [idx(3), depth(0), onOff], error: /depth 0 must be >= 1/ },
  { name: 'axis out of range', op: 'OneHot', attrs: { axis: 3 }, inputs: [idx(3), depth(4), onOff], error: /axis 3 is out of range for rank 2/ },
]);
