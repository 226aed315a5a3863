import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const ratio = (v: number): InputSpec => ({ dtype: 'float32', dims: [], values: [v] });
const training = (v: number): InputSpec => ({ dtype: 'bool', dims: [], values: [v] });

const cases: OpCase[] = [
  { name: 'output only', op: 'Dropout', inputs: [f32(3, 7)] },
  { name: 'with mask', op: 'Dropout', inputs: [f32(3, 7)], outputs: 2 },
  { name: 'ratio, training_mode false, mask', op: 'Dropout', inputs: [f32(2, 5), ratio(0.3), training(0)], outputs: 2 },
  { name: 'training mode with ratio 0 drops nothing', op: 'Dropout', inputs: [f32(2, 5), ratio(0), training(1)], outputs: 2 },
  { name: 'opset 10 ratio attribute', op: 'Dropout', opset: 10, attrs: { ratio: { float: 0.2 } }, inputs: [f32(4, 3)], outputs: 2 },
  { name: 'float16 data', op: 'Dropout', opset: 13, inputs: [{ dtype: 'float16', dims: [6] }], outputs: 2 },
];

runOpCases('dropout', cases);

runBadInputCases('dropout', [
  { name: 'training mode', op: 'Dropout', inputs: [f32(3), ratio(0.5), training(1)], error: /training mode \(ratio 0.5\) drops at random/ },
]);
