import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const int = (v: number, dtype: 'int32' | 'int64' = 'int64'): InputSpec => ({ dtype, dims: [], values: [v] });
const fed = (v: number): InputSpec => ({ dtype: 'int64', dims: [], values: [v], feed: true });
const flt = (v: number): InputSpec => ({ dtype: 'float32', dims: [], values: [v] });
const none: InputSpec = { dtype: 'int64', dims: [], omit: true };
/** sums of up to a few hundred f32 terms with f32 cos/sin on the GPU */
const spectral = { rtol: 1e-4, atol: 2e-4 };

const cases: OpCase[] = [
  { name: 'DFT real, opset 17 default axis 1', op: 'DFT', opset: 17, inputs: [f32(2, 9, 1)], tolerance: spectral },
  { name: 'DFT complex, axis 2', op: 'DFT', opset: 17, attrs: { axis: 2 }, inputs: [f32(2, 3, 10, 2)], tolerance: spectral },
  { name: 'DFT inverse complex', op: 'DFT', opset: 17, attrs: { inverse: 1 }, inputs: [f32(3, 8, 2)], tolerance: spectral },
  { name: 'DFT onesided real, odd length', op: 'DFT', opset: 17, attrs: { onesided: 1 }, inputs: [f32(2, 11, 1)], tolerance: spectral },
  { name: 'DFT dft_length pads', op: 'DFT', opset: 17, inputs: [f32(2, 6, 1), int(10)], tolerance: spectral },
  { name: 'DFT dft_length cuts, int32', op: 'DFT', opset: 17, inputs: [f32(2, 12, 2), int(7, 'int32')], tolerance: spectral },
  { name: 'DFT opset 20 default axis -2', op: 'DFT', opset: 20, inputs: [f32(3, 4, 7, 1)], tolerance: spectral },
  { name: 'DFT opset 20 axis input 1, inverse onesided', op: 'DFT', opset: 20, attrs: { inverse: 1, onesided: 1 }, inputs: [f32(2, 9, 3, 2), none, int(1)], tolerance: spectral },
  { name: 'DFT irfft with odd dft_length, real spectrum input', op: 'DFT', opset: 20, attrs: { inverse: 1, onesided: 1 }, inputs: [f32(2, 5, 1), int(7)], tolerance: spectral },
  { name: 'DFT opset 20 negative axis -3', op: 'DFT', opset: 20, inputs: [f32(2, 5, 3, 2), none, int(-3)], tolerance: spectral },
  { name: 'DFT long (Whisper n_fft 400)', op: 'DFT', opset: 17, attrs: { onesided: 1 }, inputs: [f32(3, 400, 1)], tolerance: spectral },
  { name: 'DFT lengths fed at run time', op: 'DFT', opset: 20, inputs: [f32(2, 6, 2), fed(8), fed(-2)], tolerance: spectral },
  { name: 'STFT onesided with a window', op: 'STFT', opset: 17, inputs: [f32(2, 64, 1), int(8), f32(16)], tolerance: spectral },
  { name: 'STFT frame_length only, not onesided', op: 'STFT', opset: 17, attrs: { onesided: 0 }, inputs: [f32(1, 50, 1), int(7), { dtype: 'float32', dims: [0], omit: true }, int(12)], tolerance: spectral },
  { name: 'STFT complex signal', op: 'STFT', opset: 17, attrs: { onesided: 0 }, inputs: [f32(2, 40, 2), int(5), f32(10), int(10)], tolerance: spectral },
  ...['HannWindow', 'HammingWindow', 'BlackmanWindow'].flatMap((op): OpCase[] => [
    { name: `${op} periodic`, op, opset: 17, inputs: [fed(10)], gpu: false },
    { name: `${op} symmetric, float64 out`, op, opset: 17, attrs: { periodic: 0, output_datatype: 11 }, inputs: [{ dtype: 'int32', dims: [], values: [7], feed: true }], gpu: false },
  ]),
  { name: 'MelWeightMatrix', op: 'MelWeightMatrix', opset: 17, inputs: [fed(8), fed(32), fed(16000), { dtype: 'float32', dims: [], values: [0], feed: true }, { dtype: 'float32', dims: [], values: [8000], feed: true }], gpu: false },
];

runOpCases('signal', cases);

runBadInputCases('signal', [
  { name: 'DFT last axis', op: 'DFT', opset: 20, inputs: [f32(2, 5, 1), none, int(-1)], error: /axis -1 is out of range for rank 3/ },
  { name: 'DFT wrong channel axis', op: 'DFT', opset: 17, inputs: [f32(2, 5, 3)], error: /must end in an axis of 1 \(real\) or 2 \(complex\)/ },
  { name: 'DFT length 0', op: 'DFT', opset: 17, inputs: [f32(2, 5, 1), int(0)], error: /DFT length 0 must be >= 1/ },
  { name: 'DFT int input', op: 'DFT', opset: 17, inputs: [{ dtype: 'int32', dims: [2, 5, 1] }], error: /input type int32/ },
  { name: 'STFT window length', op: 'STFT', opset: 17, inputs: [f32(1, 30, 1), int(4), f32(8), int(10)], error: /window length 8 differs from frame_length 10/ },
  { name: 'STFT frame longer than signal', op: 'STFT', opset: 17, inputs: [f32(1, 6, 1), int(4), f32(8)], error: /frame_length 8 must be in \[1, 6\]/ },
  { name: 'STFT onesided complex', op: 'STFT', opset: 17, inputs: [f32(1, 16, 2), int(4), f32(8)], error: /complex signal cannot be onesided/ },
  { name: 'window size not a scalar', op: 'HannWindow', opset: 17, inputs: [{ dtype: 'int64', dims: [2], values: [3, 4] }], error: /size must be a scalar/ },
  { name: 'Mel edges', op: 'MelWeightMatrix', opset: 17, inputs: [int(8), int(32), int(16000), flt(500), flt(100)], error: /0 <= lower \(500\) < upper \(100\)/ },
]);
