import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const scales = (values: number[]): InputSpec => ({ dtype: 'float32', dims: [values.length], values });
const sizes = (values: number[]): InputSpec => ({ dtype: 'int64', dims: [values.length], values });
const none: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const X = f32([2, 3, 5, 6]);

const cases: OpCase[] = [
  ...['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].map((nearest_mode): OpCase => ({
    name: `nearest ${nearest_mode} upsample 2x`, op: 'Resize', attrs: { mode: 'nearest', nearest_mode, coordinate_transformation_mode: 'asymmetric' }, inputs: [X, none, scales([1, 1, 2, 2])],
  })),
  { name: 'nearest half_pixel downsample', op: 'Resize', inputs: [X, none, scales([1, 1, 0.5, 0.5])] },
  { name: 'nearest sizes int32 data', op: 'Resize', inputs: [{ dtype: 'int32', dims: [1, 2, 3, 4] }, none, none, sizes([1, 2, 7, 9])] },
  { name: 'nearest uint8 data', op: 'Resize', inputs: [{ dtype: 'uint8', dims: [1, 4, 4, 3], range: [0, 255] }, none, scales([1, 2, 2, 1])] },
  ...['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'half_pixel_symmetric'].flatMap((coordinate_transformation_mode): OpCase[] => [
    { name: `linear ${coordinate_transformation_mode} upsample`, op: 'Resize', opset: 19, attrs: { mode: 'linear', coordinate_transformation_mode }, inputs: [X, none, scales([1, 1, 2, 1.5])] },
    { name: `cubic ${coordinate_transformation_mode} downsample`, op: 'Resize', opset: 19, attrs: { mode: 'cubic', coordinate_transformation_mode }, inputs: [X, none, scales([1, 1, 0.6, 0.5])] },
  ]),
  { name: 'linear sizes to 1 (pytorch_half_pixel)', op: 'Resize', attrs: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, inputs: [X, none, none, sizes([2, 3, 1, 4])] },
  { name: 'cubic exclude_outside, A = -0.5', op: 'Resize', attrs: { mode: 'cubic', exclude_outside: 1, cubic_coeff_a: { float: -0.5 } }, inputs: [X, none, scales([1, 1, 1.7, 0.8])] },
  { name: 'trilinear 5-D', op: 'Resize', attrs: { mode: 'linear' }, inputs: [f32([1, 2, 3, 4, 5]), none, scales([1, 1, 2, 1.5, 0.6])] },
  { name: 'linear float16', op: 'Resize', attrs: { mode: 'linear' }, inputs: [{ dtype: 'float16', dims: [1, 1, 4, 4] }, none, scales([1, 1, 2, 2])], tolerance: { rtol: 2e-3, atol: 1e-3 } },
  {
    name: 'tf_crop_and_resize with extrapolation', op: 'Resize',
    attrs: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: { float: 10 } },
    inputs: [X, { dtype: 'float32', dims: [8], values: [0, 0, 0.4, -0.2, 1, 1, 1.2, 0.7] }, none, sizes([2, 3, 4, 5])],
  },
  {
    // roi chosen so no source coordinate lands on an x.5 tie: f32 (GPU) and f64 (CPU) may break those differently
    name: 'tf_crop_and_resize nearest', op: 'Resize', attrs: { mode: 'nearest', coordinate_transformation_mode: 'tf_crop_and_resize' },
    inputs: [X, { dtype: 'float32', dims: [8], values: [0, 0, 0.1, 0.2, 1, 1, 0.9, 0.65] }, none, sizes([2, 3, 3, 3])],
  },
  { name: 'axes and keep_aspect_ratio not_larger (opset 18)', op: 'Resize', opset: 18, attrs: { mode: 'linear', axes: [3, 2], keep_aspect_ratio_policy: 'not_larger' }, inputs: [X, none, none, sizes([9, 8])] },
  { name: 'axes and keep_aspect_ratio not_smaller (opset 18)', op: 'Resize', opset: 18, attrs: { mode: 'nearest', axes: [-2, -1], keep_aspect_ratio_policy: 'not_smaller' }, inputs: [X, none, none, sizes([9, 8])] },
  // antialias widens the filter by 1/scale per output: not lowered to WGSL, runs on the CPU
  { name: 'linear antialias downsample', op: 'Resize', opset: 18, attrs: { mode: 'linear', antialias: 1 }, inputs: [X, none, scales([1, 1, 0.4, 0.5])], gpu: false },
  { name: 'cubic antialias downsample', op: 'Resize', opset: 18, attrs: { mode: 'cubic', antialias: 1 }, inputs: [X, none, none, sizes([2, 3, 2, 4])], gpu: false },
  { name: 'Resize-10 nearest downsample', op: 'Resize', opset: 10, inputs: [X, scales([1, 1, 0.6, 1.5])] },
  { name: 'Resize-10 linear', op: 'Resize', opset: 10, attrs: { mode: 'linear' }, inputs: [X, scales([1, 1, 2, 0.5])] },
  { name: 'Resize-11 empty scales with sizes', op: 'Resize', opset: 11, inputs: [X, { dtype: 'float32', dims: [0], values: [] }, { dtype: 'float32', dims: [0], values: [] }, sizes([2, 3, 8, 3])] },
  { name: 'Upsample-9 nearest', op: 'Upsample', opset: 9, inputs: [X, scales([1, 1, 2, 3])] },
  { name: 'Upsample-9 linear', op: 'Upsample', opset: 9, attrs: { mode: 'linear' }, inputs: [X, scales([1, 1, 2, 1.5])] },
  { name: 'Upsample-7 scales attribute', op: 'Upsample', opset: 7, attrs: { mode: 'nearest', scales: { floats: [1, 1, 2, 2] } }, inputs: [X] },
  { name: 'linear large (2-D dispatch)', op: 'Resize', attrs: { mode: 'linear' }, inputs: [f32([1, 4, 520, 520]), none, scales([1, 1, 2, 2])] },
  // The wasm kernel (kernels/wasm/src/resize.c): nearest and linear over the last two axes with
  // tables from the op's own taps; odd sizes, up and down, every coordinate mode, 1-D to 4-D.
  ...['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'half_pixel_symmetric', 'tf_half_pixel_for_nn'].flatMap((coordinate_transformation_mode): OpCase[] => [
    { name: `wasm linear ${coordinate_transformation_mode} odd up/down`, op: 'Resize', opset: 19, attrs: { mode: 'linear', coordinate_transformation_mode }, inputs: [f32([2, 3, 7, 9]), none, scales([1, 1, 1.7, 0.6])], wasmKernel: true },
    { name: `wasm nearest ${coordinate_transformation_mode} odd up/down`, op: 'Resize', opset: 19, attrs: { mode: 'nearest', coordinate_transformation_mode }, inputs: [f32([1, 3, 7, 5]), none, scales([1, 1, 0.6, 2.2])], wasmKernel: true },
  ]),
  { name: 'wasm nearest 2x half_pixel, rows of 4 and a tail of 3 (lanes doubled)', op: 'Resize', attrs: { mode: 'nearest' }, inputs: [f32([1, 3, 5, 11]), none, scales([1, 1, 2, 2])], wasmKernel: true },
  { name: 'wasm nearest 2x asymmetric floor (FPN upsample)', op: 'Resize', attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, inputs: [f32([1, 5, 9, 11]), none, scales([1, 1, 2, 2])], wasmKernel: true },
  { name: 'wasm linear sizes 3-D', op: 'Resize', attrs: { mode: 'linear' }, inputs: [f32([2, 5, 7]), none, none, sizes([2, 9, 3])], wasmKernel: true },
  { name: 'wasm linear 1-D', op: 'Resize', attrs: { mode: 'linear' }, inputs: [f32([13]), none, scales([2.5])], wasmKernel: true },
  { name: 'wasm nearest rows only', op: 'Resize', attrs: { mode: 'nearest' }, inputs: [f32([3, 11]), none, scales([1, 1.6])], wasmKernel: true },
  { name: 'wasm linear exclude_outside', op: 'Resize', attrs: { mode: 'linear', exclude_outside: 1 }, inputs: [f32([1, 2, 5, 6]), none, scales([1, 1, 1.5, 0.7])], wasmKernel: true },
  { name: 'wasm Resize-10 linear', op: 'Resize', opset: 10, attrs: { mode: 'linear' }, inputs: [f32([1, 3, 5, 6]), scales([1, 1, 2, 0.5])], wasmKernel: true },
  { name: 'wasm Upsample-7 nearest', op: 'Upsample', opset: 7, attrs: { mode: 'nearest', scales: { floats: [1, 1, 2, 3] } }, inputs: [f32([1, 3, 5, 6])], wasmKernel: true },
];

runOpCases('resize', cases);

runBadInputCases('resize', [
  { name: 'both scales and sizes', op: 'Resize', inputs: [X, none, scales([1, 1, 2, 2]), sizes([2, 3, 10, 12])], error: /needs exactly one of scales and sizes/ },
  { name: 'scales count', op: 'Resize', inputs: [X, none, scales([2, 2])], error: /has 2 scales for 4 axes/ },
  { name: 'unknown mode', op: 'Resize', attrs: { mode: 'area' }, inputs: [X, none, scales([1, 1, 2, 2])], error: /mode 'area' is not nearest, linear or cubic/ },
]);
