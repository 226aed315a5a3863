import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
/** normalized coordinates reaching past [-1, 1], so every padding mode matters */
const grid = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-1.4, 1.4] });

const cases: OpCase[] = [];
for (const [mode, opset] of [['bilinear', 16], ['nearest', 16], ['bicubic', 16], ['linear', 20], ['nearest', 20], ['cubic', 20]] as const) {
  for (const padding_mode of ['zeros', 'border', 'reflection']) {
    for (const align_corners of [0, 1]) {
      cases.push({
        name: `2-D ${mode} (opset ${opset}) ${padding_mode} align_corners ${align_corners}`,
        op: 'GridSample',
        opset,
        attrs: { mode, padding_mode, align_corners },
        inputs: [f32(2, 3, 5, 7), grid(2, 4, 6, 2)],
        tolerance: { rtol: 1e-4, atol: 1e-4 },
      });
    }
  }
}
cases.push(
  { name: '3-D linear reflection', op: 'GridSample', opset: 20, attrs: { padding_mode: 'reflection' }, inputs: [f32(1, 2, 3, 4, 5), grid(1, 2, 3, 4, 3)], tolerance: { rtol: 1e-4, atol: 1e-4 } },
  { name: '3-D nearest border, align_corners', op: 'GridSample', opset: 20, attrs: { mode: 'nearest', padding_mode: 'border', align_corners: 1 }, inputs: [f32(2, 2, 4, 3, 3), grid(2, 3, 2, 2, 3)] },
  { name: '3-D cubic zeros', op: 'GridSample', opset: 22, attrs: { mode: 'cubic' }, inputs: [f32(1, 1, 4, 4, 4), grid(1, 2, 2, 3, 3)], tolerance: { rtol: 1e-4, atol: 1e-4 } },
  { name: '1-D linear', op: 'GridSample', opset: 20, inputs: [f32(2, 3, 9), grid(2, 5, 1)], tolerance: { rtol: 1e-4, atol: 1e-4 } },
  { name: 'nearest at exact halves (round half to even)', op: 'GridSample', opset: 20, attrs: { mode: 'nearest', align_corners: 1 }, inputs: [f32(1, 1, 1, 5), { dtype: 'float32', dims: [1, 1, 4, 2], values: [-0.75, 0, -0.25, 0, 0.25, 0, 0.75, 0], feed: true }] },
);

runOpCases('grid-sample', cases);

runBadInputCases('grid-sample', [
  { name: 'grid last axis', op: 'GridSample', opset: 16, inputs: [f32(1, 1, 4, 4), f32(1, 2, 2, 3)], error: /grid must be \[1, \.\.\.2 output dims, 2\]/ },
  { name: 'opset 16 mode name', op: 'GridSample', opset: 16, attrs: { mode: 'linear' }, inputs: [f32(1, 1, 4, 4), f32(1, 2, 2, 2)], error: /mode 'linear' is not one of bilinear, nearest, bicubic \(opset 16\)/ },
  { name: 'opset 16 is 2-D only', op: 'GridSample', opset: 16, inputs: [f32(1, 1, 4, 4, 4), f32(1, 2, 2, 2, 3)], error: /must be \[N, C, H, W\]/ },
  { name: 'padding mode', op: 'GridSample', opset: 20, attrs: { padding_mode: 'wrap' }, inputs: [f32(1, 1, 4, 4), f32(1, 2, 2, 2)], error: /padding_mode 'wrap'/ },
]);
