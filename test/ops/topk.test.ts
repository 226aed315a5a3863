import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const k = (v: number): InputSpec => ({ dtype: 'int64', dims: [1], values: [v] });
/** few distinct values: ties everywhere, which must come in index order */
const ties = (...dims: number[]): InputSpec => ({ dtype: 'int32', dims, range: [0, 4] });

const cases: OpCase[] = [
  { name: 'largest, last axis', op: 'TopK', inputs: [f32(3, 11), k(4)], outputs: 2 },
  { name: 'smallest, axis 0', op: 'TopK', attrs: { axis: 0, largest: 0 }, inputs: [f32(9, 5), k(3)], outputs: 2 },
  { name: 'middle axis, negative', op: 'TopK', attrs: { axis: -2 }, inputs: [f32(2, 7, 3), k(7)], outputs: 2 },
  { name: 'ties largest', op: 'TopK', inputs: [ties(4, 13), k(6)], outputs: 2 },
  { name: 'ties smallest, axis 1 of 3', op: 'TopK', attrs: { axis: 1, largest: 0 }, inputs: [ties(2, 10, 3), k(5)], outputs: 2 },
  { name: 'sorted 0 (Kiln sorts anyway)', op: 'TopK', attrs: { sorted: 0 }, inputs: [f32(2, 9), k(3)], outputs: 2 },
  { name: 'int64 values', op: 'TopK', inputs: [{ dtype: 'int64', dims: [3, 8] }, k(2)], outputs: 2 },
  { name: 'k = 0', op: 'TopK', inputs: [f32(3, 4), k(0)], outputs: 2, gpu: false },
  { name: 'opset 1 k attribute', op: 'TopK', opset: 9, attrs: { k: 2 }, inputs: [f32(3, 6)], outputs: 2 },
  { name: 'vocabulary row (top-k sampling)', op: 'TopK', inputs: [f32(2, 5000), k(40)], outputs: 2 },
  { name: 'k fed at run time', op: 'TopK', inputs: [f32(3, 8), { dtype: 'int64', dims: [1], values: [5], feed: true }], outputs: 2 },
];

runOpCases('topk', cases);

runBadInputCases('topk', [
  { name: 'k too large', op: 'TopK', inputs: [f32(3, 4), k(5)], outputs: 2, error: /k 5 must be in \[0, 4\]/ },
  { name: 'negative k', op: 'TopK', inputs: [f32(3, 4), k(-1)], outputs: 2, error: /k -1 must be in/ },
  { name: 'int32 K', op: 'TopK', inputs: [f32(3, 4), { dtype: 'int32', dims: [1], values: [1] }], outputs: 2, error: /K type int32 is not one of int64/ },
  { name: 'axis out of range', op: 'TopK', attrs: { axis: 2 }, inputs: [f32(3, 4), k(1)], outputs: 2, error: /axis 2 is out of range/ },
]);
