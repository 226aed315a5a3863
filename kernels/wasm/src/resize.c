// Resize, nearest and linear, over the last two axes of [planes, H, W] f32 data (kernels/resize/
// wasm.ts tabulates the op's taps per output row and column, so every coordinate mode and nearest
// rule of kernels/resize/op.ts comes for free; modes with more than 2 taps decline to js).
// A table of len outputs: i0[len], i1[len] (clamped source indices), w0[len], w1[len] (weights;
// nearest: w0 = 1, w1 = 0, i1 = i0).
#include "vmath.h"

// One output row: the two source rows blended vertically, each resampled horizontally.
static void resize_row(const float *r0, const float *r1, float wh0, float wh1, const int *iw0, const int *iw1,
                       const float *ww0, const float *ww1, float *y, int outW) {
  for (int o = 0; o < outW; o++) {
    const int a = iw0[o], b = iw1[o];
    const float h0 = ww0[o] * r0[a] + ww1[o] * r0[b];
    const float h1 = ww0[o] * r1[a] + ww1[o] * r1[b];
    y[o] = wh0 * h0 + wh1 * h1;
  }
}

// nearest: one tap per axis, a gather of each output row from one source row
static void gather_row(const float *r, const int *iw, float *y, int outW) {
  for (int o = 0; o < outW; o++) y[o] = r[iw[o]];
}

// nearest, each source column twice (a 2x upscale whose table is iw[o] = o / 2): lanes duplicated
static void double_row(const float *r, float *y, int inW) {
  int i = 0;
  for (; i + 4 <= inW; i += 4) {
    v128_t v = wasm_v128_load(r + i);
    wasm_v128_store(y + 2 * i, wasm_i32x4_shuffle(v, v, 0, 0, 1, 1));
    wasm_v128_store(y + 2 * i + 4, wasm_i32x4_shuffle(v, v, 2, 2, 3, 3));
  }
  for (; i < inW; i++) y[2 * i] = y[2 * i + 1] = r[i];
}

// nearest: 1 = a gather by the table, 2 = the table is o / 2 with outW = 2 inW (double_row)
int KILN_EXPORT(kiln_resize2d_f32)(const float *x, float *y, int planes, int inH, int inW, int outH, int outW,
                                    const int *tabH, const int *tabW, int nearest) {
  const int *ih0 = tabH, *ih1 = tabH + outH;
  const float *wh0 = (const float *)(tabH + 2 * outH), *wh1 = wh0 + outH;
  const int *iw0 = tabW, *iw1 = tabW + outW;
  const float *ww0 = (const float *)(tabW + 2 * outW), *ww1 = ww0 + outW;
  for (int p = 0; p < planes; p++) {
    const float *xp = x + (long)p * inH * inW;
    float *yp = y + (long)p * outH * outW;
    for (int oh = 0; oh < outH; oh++) {
      float *yr = yp + oh * outW;
      if (nearest) {
        // rows that read the same source row (an integer upscale) copy the row just made
        if (oh > 0 && ih0[oh] == ih0[oh - 1]) __builtin_memcpy(yr, yr - outW, (unsigned long)outW * 4);
        else if (nearest == 2) double_row(xp + ih0[oh] * inW, yr, inW);
        else gather_row(xp + ih0[oh] * inW, iw0, yr, outW);
      } else {
        resize_row(xp + ih0[oh] * inW, xp + ih1[oh] * inW, wh0[oh], wh1[oh], iw0, iw1, ww0, ww1, yr, outW);
      }
    }
  }
  return 0;
}
