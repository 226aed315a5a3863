import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

// The recurrences have only their reference (CPU in every session: gpu false); their values are
// checked against onnxruntime-web in test/ops/onnx-ops-parity.test.ts. These cases check shapes,
// types and that every backend's session runs them.
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-0.6, 0.6] });

const cases: OpCase[] = [
  { name: 'RNN forward', op: 'RNN', gpu: false, outputs: 2, attrs: { hidden_size: 4 }, inputs: [f32(5, 2, 3), f32(1, 4, 3), f32(1, 4, 4)] },
  { name: 'GRU bidirectional with bias', op: 'GRU', gpu: false, outputs: 2, attrs: { hidden_size: 3, direction: 'bidirectional' }, inputs: [f32(4, 2, 5), f32(2, 9, 5), f32(2, 9, 3), f32(2, 18)] },
  { name: 'LSTM layout 1 with states', op: 'LSTM', gpu: false, outputs: 3, opset: 14, attrs: { hidden_size: 3, layout: 1 }, inputs: [f32(2, 4, 5), f32(1, 12, 5), f32(1, 12, 3), f32(1, 24), { dtype: 'int32', dims: [2], values: [4, 2] }, f32(2, 1, 3), f32(2, 1, 3)] },
];

runOpCases('rnn', cases);

runBadInputCases('rnn', [
  { name: 'W shape', op: 'LSTM', outputs: 3, attrs: { hidden_size: 3 }, inputs: [f32(4, 2, 5), f32(1, 9, 5), f32(1, 12, 3)], error: /W must be \[1, 12, 5\]/ },
  { name: 'direction', op: 'GRU', outputs: 2, attrs: { hidden_size: 3, direction: 'sideways' }, inputs: [f32(4, 2, 5), f32(1, 9, 5), f32(1, 9, 3)], error: /direction 'sideways'/ },
  { name: 'activation name', op: 'RNN', outputs: 2, attrs: { hidden_size: 4, activations: ['Gelu'] }, inputs: [f32(5, 2, 3), f32(1, 4, 3), f32(1, 4, 4)], error: /activation 'Gelu' is not one of/ },
]);
