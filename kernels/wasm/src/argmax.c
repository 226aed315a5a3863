// ArgMax / ArgMin over one axis of a float32 tensor [outer, n, inner] into int64, as the reference
// scans (kernels/reduce/op.ts): the first element, then any strictly better one (or an equal one
// with select_last_index); a NaN never wins after the first element and stays when it is first.
#include "typed.h"

void KILN_EXPORT(kiln_argmax_f32)(const float *x, i64 *y, int outer, int n, int inner, int min, int last) {
  const float sign = min ? -1.0f : 1.0f;
  for (int o = 0; o < outer; o++, x += n * inner, y += inner) {
    for (int i = 0; i < inner; i++) {
      const float *p = x + i;
      float best = sign * p[0];
      int at = 0;
      if (last)
        for (int j = 1; j < n; j++) {
          float v = sign * p[j * inner];
          if (v >= best) best = v, at = j;
        }
      else
        for (int j = 1; j < n; j++) {
          float v = sign * p[j * inner];
          if (v > best) best = v, at = j;
        }
      y[i] = at;
    }
  }
}

// MaxPool with its Indices output over 1 or 2 spatial axes (geometry as pool.c's kiln_pool2d_f32:
// ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw): the first maximum's flat input index, row-major
// (y * iw + x) or, with storage_order = 1, column-major (y + x * ih), plus c * ih * iw; a window
// with no tap inside the input gives -inf and index 0, as the reference.
void KILN_EXPORT(kiln_maxpool_indices_f32)(const float *x, float *y, i64 *ind, int nc, const int *g, int colMajor) {
  const int ih = g[0], iw = g[1], oh = g[2], ow = g[3], kh = g[4], kw = g[5], sh = g[6], sw = g[7], dh = g[8], dw = g[9], ph = g[10], pw = g[11];
  const i64 plane = (i64)ih * iw;
  for (int c = 0; c < nc; c++, x += plane)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++, y++, ind++) {
        float best = -__builtin_inff();
        i64 at = -1;
        for (int ty = 0; ty < kh; ty++) {
          const int py = oy * sh + ty * dh - ph;
          if (py < 0 || py >= ih) continue;
          for (int tx = 0; tx < kw; tx++) {
            const int px = ox * sw + tx * dw - pw;
            if (px < 0 || px >= iw) continue;
            const float v = x[py * iw + px];
            if (v > best || at < 0) best = v, at = c * plane + (colMajor ? py + (i64)px * ih : (i64)py * iw + px);
          }
        }
        *y = best;
        *ind = at < 0 ? 0 : at;
      }
}
