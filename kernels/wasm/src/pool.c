// Pooling on NCHW f32 for the wasm backend.
//   kiln_reduce_rows_f32: the mean, max or sum of each contiguous row, 4 lanes: GlobalAveragePool /
//   GlobalMaxPool (a row of H*W per (n, c)) and ReduceMean/Max/Sum over trailing axes.
//   kiln_pool2d_f32: MaxPool / AveragePool over 2 spatial axes with strides, dilations, pads and
//   count_include_pad, as the reference walks it: taps outside the input are skipped, MaxPool takes
//   the first tap then any greater one, AveragePool divides by the taps inside [lo, hi) per axis
//   (the input, or the padded extent with count_include_pad). Windows are clipped once per output
//   row and column, so the tap loops carry no bounds checks. Interior columns with stride 1 or 2
//   across take 4 outputs per vector (stride 2: even lanes of two loads); edges stay scalar.
#include "vmath.h"

enum { R_MEAN, R_MAX, R_SUM };

void KILN_EXPORT(kiln_reduce_rows_f32)(const float *x, float *y, int rows, int len, int mode) {
  for (int r = 0; r < rows; r++, x += len) {
    int j = 0;
    if (mode == R_MAX) {
      v128_t m = SPLAT(-__builtin_inff());
      for (; j + 4 <= len; j += 4) m = wasm_f32x4_max(m, wasm_v128_load(x + j));
      // NaN propagates, as Math.max does in the reference
      v128_t m2 = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
      m2 = wasm_f32x4_max(m2, wasm_i32x4_shuffle(m2, m2, 1, 0, 3, 2));
      float v = wasm_f32x4_extract_lane(m2, 0);
      for (; j < len; j++) v = v != v ? v : (x[j] != x[j] || x[j] > v ? x[j] : v);
      y[r] = v;
    } else {
      v128_t s = SPLAT(0.0f);
      for (; j + 4 <= len; j += 4) s = wasm_f32x4_add(s, wasm_v128_load(x + j));
      float v = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) + (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
      for (; j < len; j++) v += x[j];
      y[r] = mode == R_MEAN ? v / (float)len : v;
    }
  }
}

// geometry: ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, loH, hiH, loW, hiW (the count range)
enum { IH, IW, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW, LOH, HIH, LOW, HIW };

/** first and one-past-last tap index of a window starting at `start` whose taps land in [0, n) */
INLINE void clip(int start, int k, int d, int n, int *t0, int *t1) {
  int a = 0, b = k;
  while (a < b && start + a * d < 0) a++;
  while (b > a && start + (b - 1) * d >= n) b--;
  *t0 = a;
  *t1 = b;
}

/** taps of a window at `start` inside [lo, hi) */
INLINE int count(int start, int k, int d, int lo, int hi) {
  int c = 0;
  for (int j = 0; j < k; j++) {
    int p = start + j * d;
    c += p >= lo && p < hi;
  }
  return c;
}

/**
 * Whether outputs ox..ox+3 can take the vector path: stride 1 or 2 across, every window fully inside
 * its row (interior columns: no clipping, and the AveragePool divisor is rows x kw there), stride 2
 * also reading one float past the last tap (kept inside the row), and at least one row of taps.
 */
INLINE int vector_ok(const int *g, int ox, int ty0, int ty1) {
  const int sw = g[SW];
  if ((sw != 1 && sw != 2) || ox + 3 >= g[OW] || ty0 >= ty1) return 0;
  const int first = ox * sw - g[PW], last = (ox + 3) * sw - g[PW] + (g[KW] - 1) * g[DW] + (sw == 2);
  return first >= 0 && last < g[IW];
}

/** 4 consecutive outputs of one output row, vectorized across them: the same tap order and rules as the scalar path. */
INLINE void pool4(const float *x, float *y, const int *g, int y0, int ty0, int ty1, int x0, int max, int cy) {
  const int iw = g[IW], sw = g[SW];
  v128_t acc = SPLAT(0.0f);
  int first = 1;
  for (int ty = ty0; ty < ty1; ty++) {
    const float *row = x + (y0 + ty * g[DH]) * iw + x0;
    for (int tx = 0; tx < g[KW]; tx++) {
      const float *p = row + tx * g[DW];
      v128_t v = sw == 1 ? wasm_v128_load(p) : wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
      if (max) acc = first ? v : wasm_v128_bitselect(v, acc, wasm_f32x4_gt(v, acc));
      else acc = wasm_f32x4_add(acc, v);
      first = 0;
    }
  }
  if (!max) acc = wasm_f32x4_div(acc, SPLAT((float)(cy * g[KW])));
  wasm_v128_store(y, acc);
}

void KILN_EXPORT(kiln_pool2d_f32)(const float *x, float *y, int nc, const int *g, int max) {
  const int ih = g[IH], iw = g[IW], oh = g[OH], ow = g[OW];
  for (int c = 0; c < nc; c++, x += ih * iw) {
    for (int oy = 0; oy < oh; oy++) {
      const int y0 = oy * g[SH] - g[PH];
      int ty0, ty1;
      clip(y0, g[KH], g[DH], ih, &ty0, &ty1);
      const int cy = max ? 1 : count(y0, g[KH], g[DH], g[LOH], g[HIH]);
      for (int ox = 0; ox < ow; ox++, y++) {
        if (vector_ok(g, ox, ty0, ty1)) {
          // 4 outputs at once; the loop's own increment adds the 4th
          pool4(x, y, g, y0, ty0, ty1, ox * g[SW] - g[PW], max, cy);
          ox += 3;
          y += 3;
          continue;
        }
        const int x0 = ox * g[SW] - g[PW];
        int tx0, tx1;
        clip(x0, g[KW], g[DW], iw, &tx0, &tx1);
        if (max) {
          float best = -__builtin_inff();
          int first = 1;
          for (int ty = ty0; ty < ty1; ty++) {
            const float *row = x + (y0 + ty * g[DH]) * iw + x0;
            for (int tx = tx0; tx < tx1; tx++) {
              float v = row[tx * g[DW]];
              if (first || v > best) best = v;
              first = 0;
            }
          }
          *y = best;
        } else {
          float acc = 0.0f;
          for (int ty = ty0; ty < ty1; ty++) {
            const float *row = x + (y0 + ty * g[DH]) * iw + x0;
            for (int tx = tx0; tx < tx1; tx++) acc += row[tx * g[DW]];
          }
          *y = acc / (float)(cy * count(x0, g[KW], g[DW], g[LOW], g[HIW]));
        }
      }
    }
  }
}

/**
 * MaxPool 2x2, stride 2, no pads or dilation, every window inside the input (kernels/pool/wasm.ts
 * checks): per 4 outputs two loads from each of the two rows, the even and odd lanes split by
 * shuffles and combined in the reference's tap order (t00, t01, t10, t11; a later tap replaces the
 * running max only when greater, which is what pmax does: a NaN first tap stays, a later one never wins).
 */
void KILN_EXPORT(kiln_maxpool2x2_f32)(const float *x, float *y, int nc, int ih, int iw, int oh, int ow) {
  for (int c = 0; c < nc; c++, x += ih * iw) {
    for (int oy = 0; oy < oh; oy++, y += ow) {
      const float *r0 = x + 2 * oy * iw, *r1 = r0 + iw;
      int ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        v128_t a0 = wasm_v128_load(r0 + 2 * ox), a1 = wasm_v128_load(r0 + 2 * ox + 4);
        v128_t b0 = wasm_v128_load(r1 + 2 * ox), b1 = wasm_v128_load(r1 + 2 * ox + 4);
        v128_t m = wasm_f32x4_pmax(wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6), wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(b0, b1, 0, 2, 4, 6));
        wasm_v128_store(y + ox, wasm_f32x4_pmax(m, wasm_i32x4_shuffle(b0, b1, 1, 3, 5, 7)));
      }
      for (; ox < ow; ox++) {
        const float *p = r0 + 2 * ox, *q = r1 + 2 * ox;
        float m = p[0];
        if (p[1] > m) m = p[1];
        if (q[0] > m) m = q[0];
        if (q[1] > m) m = q[1];
        y[ox] = m;
      }
    }
  }
}
