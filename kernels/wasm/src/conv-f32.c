// f32 Conv (NCHW, 1-D and 2-D) for Kiln's wasm backend, as onnxruntime's MLAS does it: per image and
// group Y[Cout, OH*OW] = W[Cout, K] x col[K, OH*OW], K = Cin/group * KH * KW. W is the GEMM's A, read
// in place; col is never materialised whole: a chunk of output positions at a time is written by
// the im2col straight into the packed-panel layout kiln_gemm_f32 reads (gemm-f32.c), so the chunk
// stays in cache between packing and the GEMM. The per-output-channel bias is written into Y first
// and the GEMM accumulates onto it (its bias row is per column, the wrong axis for a conv).
// Depthwise (one input and one output channel per group) has no reuse for a GEMM: a direct kernel,
// SIMD across the output width over a zero-padded copy of the input plane (no bounds checks inside).
#include <wasm_simd128.h>
#include "eltwise-chain.h"

#define NR 8
#define PANEL_FLOATS(K) (((K) + 1) * NR)
#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

#ifdef KILN_RELAXED
#define MADD(a, b, acc) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(a, b, acc) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

enum { GEMM_ACCUMULATE = 1, GEMM_CLAMP = 2 };

void kiln_gemm_f32(const float *a, int lda, const float *b_packed, float *c, int ldc, int M, int N, int K, int flags,
                   float lo_value, float hi_value);

typedef struct {
  int ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
} geometry;

// Columns [p0, p0 + pn) of one group's col matrix into ceil(pn / 8) panels: a zero bias row, then
// K rows of 8 floats (k = (ci * KH + ky) * KW + kx, W's own order), zero past pn.
static void pack_cols(const float *x, int cin, const geometry *g, int p0, int pn, float *out) {
  const int K = cin * g->kh * g->kw;
  const int plane = g->ih * g->iw;
  const int direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
  for (int q = 0; q < pn; q += NR) {
    float *panel = out + (q / NR) * PANEL_FLOATS(K);
    const int nc = pn - q < NR ? pn - q : NR;
    wasm_v128_store(panel, wasm_f32x4_splat(0.0f));
    wasm_v128_store(panel + 4, wasm_f32x4_splat(0.0f));
    float *dst = panel + NR;
    const int n0 = p0 + q;
    if (direct && nc == NR) {
      // 1x1, stride 1, no padding: col is X itself, 8 consecutive positions even across rows
      for (int ci = 0; ci < cin; ci++, dst += NR) {
        const float *src = x + ci * plane + n0;
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      }
      continue;
    }
    int by[NR], bx[NR];
    for (int j = 0; j < NR; j++) {
      const int n = n0 + (j < nc ? j : 0);
      by[j] = (n / g->ow) * g->sh - g->ph;
      bx[j] = (n % g->ow) * g->sw - g->pw;
    }
    // all 8 positions in one output row: one input row per (ci, ky), consecutive (or every other) x
    const int one_row = nc == NR && by[0] == by[NR - 1];
    for (int ci = 0; ci < cin; ci++) {
      const float *xc = x + ci * plane;
      for (int ky = 0; ky < g->kh; ky++) {
        if (one_row) {
          const int iy = by[0] + ky * g->dh;
          if (iy < 0 || iy >= g->ih) {
            for (int kx = 0; kx < g->kw; kx++, dst += NR) {
              wasm_v128_store(dst, wasm_f32x4_splat(0.0f));
              wasm_v128_store(dst + 4, wasm_f32x4_splat(0.0f));
            }
            continue;
          }
          const float *row = xc + iy * g->iw;
          for (int kx = 0; kx < g->kw; kx++, dst += NR) {
            const int ix = bx[0] + kx * g->dw;
            if (g->sw == 1 && ix >= 0 && ix + 7 < g->iw) {
              wasm_v128_store(dst, wasm_v128_load(row + ix));
              wasm_v128_store(dst + 4, wasm_v128_load(row + ix + 4));
            } else if (g->sw == 2 && ix >= 0 && ix + 15 < g->iw) {
              const v128_t a = wasm_v128_load(row + ix), b = wasm_v128_load(row + ix + 4);
              const v128_t c = wasm_v128_load(row + ix + 8), d = wasm_v128_load(row + ix + 12);
              wasm_v128_store(dst, wasm_i32x4_shuffle(a, b, 0, 2, 4, 6));
              wasm_v128_store(dst + 4, wasm_i32x4_shuffle(c, d, 0, 2, 4, 6));
            } else {
              for (int j = 0; j < NR; j++) {
                const int xj = ix + j * g->sw;
                dst[j] = xj >= 0 && xj < g->iw ? row[xj] : 0.0f;
              }
            }
          }
          continue;
        }
        for (int kx = 0; kx < g->kw; kx++, dst += NR) {
          for (int j = 0; j < NR; j++) {
            const int iy = by[j] + ky * g->dh, ix = bx[j] + kx * g->dw;
            dst[j] = j < nc && iy >= 0 && iy < g->ih && ix >= 0 && ix < g->iw ? xc[iy * g->iw + ix] : 0.0f;
          }
        }
      }
    }
  }
}

/**
 * Y = act(conv(X, W) + bias) for X [batch, group * cin_g, IH, IW], W [group * cout_g, cin_g, KH, KW],
 * bias [group * cout_g] or null. scratch holds ceil(chunk / 8) panels of (K + 1) * 8 floats; chunk
 * (a multiple of 8) output positions are packed and multiplied at a time. act clamps to [lo, hi]
 * when flags & GEMM_CLAMP. Runs units [u0, u1) of batch * group * ceil(OH*OW / chunk) (image,
 * group, chunk) units: each unit writes its own output columns (bias, then the GEMM onto it), so the
 * thread pool splits a conv by unit ranges with the same bits as one call over all of them. Then the
 * tail (eltwise-chain.h kiln_run_tail: `prog`, `pre`, `count`, into z) runs on the unit's columns of
 * every output channel while they are in cache.
 */
void KILN_EXPORT(kiln_conv_f32)(const float *x, const float *w, const float *bias, float *y, float *scratch, int batch,
                                int group, int cin_g, int cout_g, int ih, int iw, int oh, int ow, int kh, int kw, int sh,
                                int sw, int ph, int pw, int dh, int dw, int chunk, int flags, float lo, float hi,
                                const int *prog, int pre, int count, float *z, int u0, int u1) {
  const geometry g = {ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
  const int K = cin_g * kh * kw;
  const int S = oh * ow;
  const int chunks = (S + chunk - 1) / chunk;
  (void)batch;
  flags &= GEMM_CLAMP;
  if (bias) flags |= GEMM_ACCUMULATE;
  for (int u = u0; u < u1; u++) {
    const int img = u / chunks; // image * group + group index
    const int gr = img % group;
    const int p0 = (u % chunks) * chunk;
    const int pn = S - p0 < chunk ? S - p0 : chunk;
    const float *xg = x + img * cin_g * ih * iw;
    float *yg = y + img * cout_g * S + p0;
    const float *wg = w + gr * cout_g * K;
    if (bias) {
      for (int co = 0; co < cout_g; co++) {
        const float b = bias[gr * cout_g + co];
        const v128_t bv = wasm_f32x4_splat(b);
        float *row = yg + co * S;
        int p = 0;
        for (; p + 4 <= pn; p += 4) wasm_v128_store(row + p, bv);
        for (; p < pn; p++) row[p] = b;
      }
    }
    pack_cols(xg, cin_g, &g, p0, pn, scratch);
    kiln_gemm_f32(wg, K, scratch, yg, S, cout_g, pn, K, flags, lo, hi);
    // rows of pn from (image, channel gr * cout_g, position p0), S apart, in the whole output
    if (count > 0) kiln_run_tail(prog, pre, count, y, z, img * cout_g * S + p0, pn, cout_g, S);
  }
}

// Taps a depthwise kernel holds splatted (7x7); bigger kernels go through the GEMM path (kernels/conv/wasm.ts).
#define MAX_DEPTHWISE_TAPS 49

// 8 outputs of one row of a depthwise conv, KH x KW taps (constants after inlining for 3x3 and 5x5).
static inline __attribute__((always_inline)) void depthwise_8(const float *plane, int wp, const v128_t *w, int kh, int kw,
                                                              int sw, int dh, int dw, int iy0, int ix0, v128_t *o0,
                                                              v128_t *o1) {
  v128_t acc0 = *o0, acc1 = *o1;
  for (int ky = 0; ky < kh; ky++) {
    const float *row = plane + (iy0 + ky * dh) * wp + ix0;
    for (int kx = 0; kx < kw; kx++) {
      const v128_t wv = w[ky * kw + kx];
      const float *r = row + kx * dw;
      v128_t v0, v1;
      if (sw == 1) {
        v0 = wasm_v128_load(r);
        v1 = wasm_v128_load(r + 4);
      } else if (sw == 2) {
        v0 = wasm_i32x4_shuffle(wasm_v128_load(r), wasm_v128_load(r + 4), 0, 2, 4, 6);
        v1 = wasm_i32x4_shuffle(wasm_v128_load(r + 8), wasm_v128_load(r + 12), 0, 2, 4, 6);
      } else {
        v0 = wasm_f32x4_make(r[0], r[sw], r[2 * sw], r[3 * sw]);
        v1 = wasm_f32x4_make(r[4 * sw], r[5 * sw], r[6 * sw], r[7 * sw]);
      }
      acc0 = MADD(wv, v0, acc0);
      acc1 = MADD(wv, v1, acc1);
    }
  }
  *o0 = acc0;
  *o1 = acc1;
}

// 8 outputs of each of two rows (oy, oy + 1), column stride 1, no dilation: the two share kh - sh
// input rows, and each input vector loaded serves both where it falls under both kernels (5x5
// stride 1: 60 loads instead of 100 for 100 multiply-adds). Only the 5x5 stride-1-column form
// takes it: the 3x3 one added 218 bytes gzip for ~1% on PP-OCR det and rec.
static inline __attribute__((always_inline)) void depthwise_8x2(const float *plane, int wp, const v128_t *w, int kh,
                                                                int kw, int sh, int iy0, int ix0, v128_t *o) {
  v128_t a0 = o[0], a1 = o[1], b0 = o[2], b1 = o[3];
  for (int j = 0; j < kh + sh; j++) {
    const float *row = plane + (iy0 + j) * wp + ix0;
    for (int kx = 0; kx < kw; kx++) {
      const float *r = row + kx;
      const v128_t v0 = wasm_v128_load(r), v1 = wasm_v128_load(r + 4);
      if (j < kh) {
        a0 = MADD(w[j * kw + kx], v0, a0);
        a1 = MADD(w[j * kw + kx], v1, a1);
      }
      if (j >= sh) {
        b0 = MADD(w[(j - sh) * kw + kx], v0, b0);
        b1 = MADD(w[(j - sh) * kw + kx], v1, b1);
      }
    }
  }
  o[0] = a0;
  o[1] = a1;
  o[2] = b0;
  o[3] = b1;
}

static inline __attribute__((always_inline)) void depthwise_store8(float *out, int ox, int ow, v128_t acc0, v128_t acc1,
                                                                   int clamp, v128_t lo, v128_t hi) {
  if (clamp) {
    acc0 = wasm_f32x4_min(wasm_f32x4_max(acc0, lo), hi);
    acc1 = wasm_f32x4_min(wasm_f32x4_max(acc1, lo), hi);
  }
  if (ox + 8 <= ow) {
    wasm_v128_store(out + ox, acc0);
    wasm_v128_store(out + ox + 4, acc1);
  } else {
    float tail[8];
    wasm_v128_store(tail, acc0);
    wasm_v128_store(tail + 4, acc1);
    for (int j = 0; ox + j < ow; j++) out[ox + j] = tail[j];
  }
}

static inline __attribute__((always_inline)) void depthwise_rows(const float *plane, int wp, const float *w, float *yc,
                                                                 int oh, int ow, int kh, int kw, int sh, int sw, int dh,
                                                                 int dw, float b, int clamp, v128_t lo, v128_t hi) {
  const v128_t bv = wasm_f32x4_splat(b);
  // the taps splatted once per channel (registers for 3x3: the compiler cannot hoist loads past the
  // stores to y, which might alias w)
  v128_t wv[MAX_DEPTHWISE_TAPS];
  for (int t = 0; t < kh * kw; t++) wv[t] = wasm_v128_load32_splat(w + t);
  int oy = 0;
  // the same sums in the same order as depthwise_8 (tap by tap from the bias): the same bits either way
  if (kh == 5 && kw == 5 && sw == 1 && dh == 1 && dw == 1 && sh <= 2) {
    for (; oy + 2 <= oh; oy += 2) {
      for (int ox = 0; ox < ow; ox += 8) {
        v128_t acc[4] = {bv, bv, bv, bv};
        depthwise_8x2(plane, wp, wv, kh, kw, sh, oy * sh, ox, acc);
        depthwise_store8(yc + oy * ow, ox, ow, acc[0], acc[1], clamp, lo, hi);
        depthwise_store8(yc + (oy + 1) * ow, ox, ow, acc[2], acc[3], clamp, lo, hi);
      }
    }
  }
  for (; oy < oh; oy++) {
    for (int ox = 0; ox < ow; ox += 8) {
      v128_t acc0 = bv, acc1 = bv;
      depthwise_8(plane, wp, wv, kh, kw, sw, dh, dw, oy * sh, ox * sw, &acc0, &acc1);
      depthwise_store8(yc + oy * ow, ox, ow, acc0, acc1, clamp, lo, hi);
    }
  }
}

/**
 * Depthwise conv: X [batch, C, IH, IW], W [C, 1, KH, KW], bias [C] or null, one output channel per
 * input channel; planes [u0, u1) of batch * C (the thread pool splits by plane ranges, each part
 * with its own scratch). Each channel's plane is copied into scratch with its padding as zeros (and room
 * for the last 8-wide vector: hp * wp floats, computed alike in kernels/conv/wasm.ts), then every
 * output row is 8 lanes at a time; then the tail (kiln_run_tail, into z) over the plane.
 */
void KILN_EXPORT(kiln_conv_depthwise_f32)(const float *x, const float *w, const float *bias, float *y, float *scratch,
                                          int batch, int channels, int ih, int iw, int oh, int ow, int kh, int kw,
                                          int sh, int sw, int ph, int pw, int dh, int dw, int flags, float lo_value,
                                          float hi_value, const int *prog, int pre, int count, float *z, int u0,
                                          int u1) {
  const int ow8 = (ow + 7) / 8 * 8;
  const int hp = (oh - 1) * sh + (kh - 1) * dh + 1;
  const int wp = ow8 * sw + (kw - 1) * dw + 8;
  const int clamp = flags & GEMM_CLAMP;
  const v128_t lo = wasm_f32x4_splat(lo_value), hi = wasm_f32x4_splat(hi_value);
  (void)batch;
  for (int u = u0; u < u1; u++) {
    const int c = u % channels;
    const float *xc = x + u * ih * iw;
    for (int r = 0; r < hp; r++) {
      float *dst = scratch + r * wp;
      const int iy = r - ph;
      // columns [pw, pw + iw) hold the input row where it exists, the rest zeros
      const int from = pw < wp ? pw : wp;
      const int to = pw + iw < wp ? pw + iw : wp;
      if (iy < 0 || iy >= ih || from >= to) {
        __builtin_memset(dst, 0, (unsigned long)wp * 4);
        continue;
      }
      __builtin_memset(dst, 0, (unsigned long)from * 4);
      __builtin_memcpy(dst + from, xc + iy * iw, (unsigned long)(to - from) * 4);
      __builtin_memset(dst + to, 0, (unsigned long)(wp - to) * 4);
    }
    const float *wc = w + c * kh * kw;
    float *yc = y + u * oh * ow;
    const float b = bias ? bias[c] : 0.0f;
    if (kh == 3 && kw == 3 && sw == 1) depthwise_rows(scratch, wp, wc, yc, oh, ow, 3, 3, sh, 1, dh, dw, b, clamp, lo, hi);
    else if (kh == 3 && kw == 3 && sw == 2) depthwise_rows(scratch, wp, wc, yc, oh, ow, 3, 3, sh, 2, dh, dw, b, clamp, lo, hi);
    else if (kh == 5 && kw == 5 && sw == 1) depthwise_rows(scratch, wp, wc, yc, oh, ow, 5, 5, sh, 1, dh, dw, b, clamp, lo, hi);
    else if (kh == 5 && kw == 5 && sw == 2) depthwise_rows(scratch, wp, wc, yc, oh, ow, 5, 5, sh, 2, dh, dw, b, clamp, lo, hi);
    else depthwise_rows(scratch, wp, wc, yc, oh, ow, kh, kw, sh, sw, dh, dw, b, clamp, lo, hi);
    if (count > 0) kiln_run_tail(prog, pre, count, y, z, u * oh * ow, oh * ow, 1, 0);
  }
}

/**
 * ConvTranspose's second half, as MLAS does it: col [cout * KH * KW, IH * IW] (W^T x X for one image
 * and group, from kiln_gemm_f32) scattered into Y [cout, OH, OW]: output (iy * sh - ph + ky * dh,
 * ix * sw - pw + kx * dw) gets col[(co, ky, kx), (iy, ix)]. Y starts as the bias (or zeros) and
 * ends clamped to [lo, hi] when flags & GEMM_CLAMP. The in-range ix of each tap row are computed
 * once, so the inner loop has no bounds checks.
 */
void KILN_EXPORT(kiln_col2im_f32)(const float *col, const float *bias, float *y, int cout, int ih, int iw, int oh,
                                  int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int flags,
                                  float lo, float hi) {
  const int S = oh * ow, in = ih * iw;
  for (int co = 0; co < cout; co++) {
    float *yc = y + co * S;
    const float b = bias ? bias[co] : 0.0f;
    for (int p = 0; p < S; p++) yc[p] = b;
    for (int ky = 0; ky < kh; ky++) {
      for (int kx = 0; kx < kw; kx++) {
        const float *row = col + ((co * kh + ky) * kw + kx) * in;
        // ix with 0 <= ix * sw - pw + kx * dw < ow
        const int off = kx * dw - pw;
        int ix0 = off >= 0 ? 0 : (-off + sw - 1) / sw;
        int ix1 = ow - 1 - off < 0 ? 0 : (ow - 1 - off) / sw + 1;
        if (ix1 > iw) ix1 = iw;
        if (ix0 >= ix1) continue;
        for (int iy = 0; iy < ih; iy++) {
          const int oy = iy * sh - ph + ky * dh;
          if (oy < 0 || oy >= oh) continue;
          float *yr = yc + oy * ow;
          const float *cr = row + iy * iw;
          if (sw == 1) {
            for (int ix = ix0; ix < ix1; ix++) yr[ix + off] += cr[ix];
          } else {
            for (int ix = ix0; ix < ix1; ix++) yr[ix * sw + off] += cr[ix];
          }
        }
      }
    }
    if (flags & GEMM_CLAMP) {
      for (int p = 0; p < S; p++) yc[p] = yc[p] < lo ? lo : yc[p] > hi ? hi : yc[p];
    }
  }
}
