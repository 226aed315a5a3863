import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
// boxes (x1, y1, x2, y2) inside, across and beyond a 10x12 image at spatial_scale 1 (or 0.5 of a 20x24 one)
const ROIS: InputSpec = { dtype: 'float32', dims: [4, 4], values: [0, 0, 9, 9, 2.5, 1.2, 7.7, 8.9, -3, -2, 5, 4, 6, 5, 14, 13], feed: true };
const batch = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values, feed: true });

const cases: OpCase[] = [];
for (const mode of ['avg', 'max']) {
  for (const ctm of ['half_pixel', 'output_half_pixel']) {
    cases.push({
      name: `${mode} ${ctm} 3x4 bins, adaptive sampling`,
      op: 'RoiAlign',
      opset: 16,
      attrs: { mode, coordinate_transformation_mode: ctm, output_height: 3, output_width: 4 },
      inputs: [f32(2, 3, 10, 12), ROIS, batch([0, 1, 1, 0])],
      tolerance: { rtol: 1e-4, atol: 1e-5 },
    });
  }
}
cases.push(
  { name: 'sampling_ratio 2, spatial_scale 0.5', op: 'RoiAlign', opset: 16, attrs: { output_height: 2, output_width: 2, sampling_ratio: 2, spatial_scale: { float: 0.5 } }, inputs: [f32(1, 2, 10, 12), ROIS, batch([0, 0, 0, 0])], tolerance: { rtol: 1e-4, atol: 1e-5 } },
  { name: 'opset 10 (output_half_pixel)', op: 'RoiAlign', opset: 10, attrs: { output_height: 5, output_width: 5 }, inputs: [f32(2, 1, 10, 12), ROIS, batch([1, 0, 1, 0])], tolerance: { rtol: 1e-4, atol: 1e-5 } },
);

runOpCases('roi-align', cases);

runBadInputCases('roi-align', [
  { name: 'rois shape', op: 'RoiAlign', inputs: [f32(1, 1, 4, 4), f32(2, 5), batch([0, 0])], error: /rois must be \[num_rois, 4\]/ },
  { name: 'batch_indices length', op: 'RoiAlign', inputs: [f32(1, 1, 4, 4), f32(2, 4), batch([0])], error: /batch_indices must be \[2\]/ },
  { name: 'mode', op: 'RoiAlign', attrs: { mode: 'sum' }, inputs: [f32(1, 1, 4, 4), f32(1, 4), batch([0])], error: /mode 'sum' is not avg or max/ },
]);
