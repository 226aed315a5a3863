// Lazy op group 'sequence': index, sequence and data-dependent-shape ops. Loaded by kernels/lazy-families.ts when a model uses one of its ops.
import type { LazyOpGroup } from '../lazy-families.ts';
import { definitions as cumsum } from '../cumsum/op.ts';
import { webgpu as cumsumWebGpu } from '../cumsum/webgpu.ts';
import { definitions as trilu } from '../trilu/op.ts';
import { webgpu as triluWebGpu } from '../trilu/webgpu.ts';
import { definitions as scatter } from '../scatter/op.ts';
import { webgpu as scatterWebGpu } from '../scatter/webgpu.ts';
import { definitions as tensorScatter } from '../tensor-scatter/op.ts';
import { webgpu as tensorScatterWebGpu } from '../tensor-scatter/webgpu.ts';
import { definitions as einsum } from '../einsum/op.ts';
import { webgpu as einsumWebGpu } from '../einsum/webgpu.ts';
import { definitions as topk } from '../topk/op.ts';
import { webgpu as topkWebGpu } from '../topk/webgpu.ts';
import { definitions as oneHot } from '../one-hot/op.ts';
import { webgpu as oneHotWebGpu } from '../one-hot/webgpu.ts';
import { definitions as dropout } from '../dropout/op.ts';
import { webgpu as dropoutWebGpu } from '../dropout/webgpu.ts';
import { definitions as dynamicShape } from '../dynamic-shape/op.ts';
import { definitions as rnn } from '../rnn/op.ts';
import { definitions as reverseSequence } from '../reverse-sequence/op.ts';
import { definitions as det } from '../det/op.ts';
import { definitions as bitCast } from '../bit-cast/op.ts';

export const group: LazyOpGroup = {
  definitions: [...cumsum, ...trilu, ...scatter, ...tensorScatter, ...einsum, ...topk, ...oneHot, ...dropout, ...dynamicShape, ...rnn, ...reverseSequence,
    ...det,
    ...bitCast,
  ],
  js: [],
  webgpu: [cumsumWebGpu, triluWebGpu, scatterWebGpu, tensorScatterWebGpu, einsumWebGpu, topkWebGpu, oneHotWebGpu, dropoutWebGpu],
};
