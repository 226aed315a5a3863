// TF.js 4.22's wasm backend has no Conv2DBackpropFilter kernel, so training a CNN there fails (and
// the pure-JS cpu backend is ~50x slower for the whole run). The filter gradient is
//   dW[kh, kw, ci, co] = sum over (n, oh, ow) of x_pad[n, oh*s + kh*d, ow*s + kw*d, ci] * dy[n, oh, ow, co].
// Read with the batch as channels and dy as a filter dilated by the stride, that is itself a
// convolution: conv2d(x_pad as [ci, H, W, n], dy as [OH, OW, n, co], dilation s) = dW as [ci, kh, kw, co],
// run by the wasm backend's XNNPACK conv (5-40x faster here than the per-tap form). Dilated convs
// (TF.js cannot combine stride and dilation in one conv2d) use the per-tap form: one strided slice
// and one matMul per kernel tap.
import * as tf from '@tensorflow/tfjs';

export interface BackpropFilterAttrs {
  readonly strides: number | readonly [number, number];
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dataFormat: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
  readonly filterShape: readonly [number, number, number, number];
  readonly dilations?: number | readonly [number, number];
}

function convInfo(x: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape, [...attrs.filterShape], attrs.strides as [number, number], (attrs.dilations ?? 1) as [number, number],
    attrs.pad as 'same', attrs.dimRoundingMode, false, 'channelsLast',
  );
}

/** dW for y = conv2d(x, W) given dy (NHWC), as a convolution of x by dy; per-tap products for dilated convs. */
export function conv2dBackpropFilterComposed(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter composition supports NHWC only, got ${attrs.dataFormat}`);
  const info = convInfo(x, attrs);
  const p = info.padInfo;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || Math.min(p.top, p.bottom, p.left, p.right) < 0) return conv2dBackpropFilterPerTap(x, dy, attrs);
  const [kh, kw, ci, co] = attrs.filterShape;
  return tf.tidy(() => {
    const { top, bottom, left, right } = info.padInfo;
    const xPad = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    const xT = tf.transpose(xPad, [3, 1, 2, 0]); // [ci, Hp, Wp, n]: the batch becomes the channels
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, n, co]: dy becomes the filter
    const r = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]); // [ci, >= kh, >= kw, co]
    // Rows past kh (padding the last stride never reached) are not taps of the filter.
    return tf.transpose(tf.slice(r, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
  });
}

/** The per-tap form: one strided slice and one matMul per kernel tap (any stride and dilation). */
export function conv2dBackpropFilterPerTap(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: BackpropFilterAttrs): tf.Tensor4D {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter composition supports NHWC only, got ${attrs.dataFormat}`);
  const [kh, kw, ci, co] = attrs.filterShape;
  const info = convInfo(x, attrs);
  return tf.tidy(() => {
    const { top, bottom, left, right } = info.padInfo;
    // Negative "padding" happens when the last stride does not reach the edge: slicing covers it.
    const xPad = top || bottom || left || right ? tf.pad(x, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]) : x;
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const dy2d = tf.reshape(dy, [rows, co]);
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const r0 = i * info.dilationHeight;
        const c0 = j * info.dilationWidth;
        const patch = tf.stridedSlice(
          xPad,
          [0, r0, c0, 0],
          [info.batchSize, r0 + (info.outHeight - 1) * info.strideHeight + 1, c0 + (info.outWidth - 1) * info.strideWidth + 1, ci],
          [1, info.strideHeight, info.strideWidth, 1],
        );
        taps.push(tf.matMul(tf.reshape(patch, [rows, ci]), dy2d, true, false));
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, ci, co]);
  });
}

let registered = false;

/** Registers the composition as the wasm backend's Conv2DBackpropFilter (once per process). */
export function registerWasmConv2dBackpropFilter(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    // Ops called inside a kernel are not taped (the engine's kernel depth is > 0), so this is safe
    // during backprop; tidy keeps only the result.
    kernelFunc: ({ inputs, attrs }) => {
      // Casts with a reason: TF.js types kernel inputs as TensorInfo and attrs as a generic map;
      // Conv2DBackpropFilter's are always 4-D x/dy and the conv attributes its op passes.
      const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
      return conv2dBackpropFilterComposed(x, dy, attrs as unknown as BackpropFilterAttrs);
    },
  });
}
