// Lazy op group 'vision': detection and sampling ops. Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as gridSample } from '../grid-sample/op.ts';
import { webgpu as gridSampleWebGpu } from '../grid-sample/webgpu.ts';
import { definitions as lrn } from '../lrn/op.ts';
import { webgpu as lrnWebGpu } from '../lrn/webgpu.ts';
import { definitions as nonMaxSuppression } from '../non-max-suppression/op.ts';
import { definitions as roiAlign } from '../roi-align/op.ts';
import { webgpu as roiAlignWebGpu } from '../roi-align/webgpu.ts';
import { definitions as centerCropPad } from '../center-crop-pad/op.ts';
import { definitions as col2im } from '../col2im/op.ts';
import { js as col2imJs } from '../col2im/js.ts';
import { definitions as maxUnpool } from '../max-unpool/op.ts';
import { definitions as deformConv } from '../deform-conv/op.ts';

export const group: LazyOpGroup = {
  definitions: [...gridSample, ...lrn, ...nonMaxSuppression, ...roiAlign, ...centerCropPad,
    ...col2im,
    ...maxUnpool,
    ...deformConv,
  ],
  js: [
    col2imJs,
  ],
  webgpu: [gridSampleWebGpu, lrnWebGpu, roiAlignWebGpu],
};
