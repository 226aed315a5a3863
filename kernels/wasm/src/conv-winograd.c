// 3x3 stride-1 convs (group 1, no dilation) as Winograd F(2x2, 3x3) for Kiln's wasm backend: each
// 2x2 output tile takes 16 products per (input, output channel) pair instead of 36, so the GEMM work
// is 2.25x smaller than im2col's. Per output tile and channel pair: M = A^T [(G g G^T) . (B^T d B)] A,
// the sum over input channels done as 16 GEMMs (one per position of the 4x4 transformed tile):
// M_xi[cout, tiles] = U_xi[cout, cin] x V_xi[cin, tiles], through kiln_gemm_f32 with V written straight
// into its packed panels. U = G g G^T is computed once per session (kernels/conv/wasm-winograd.ts).
//
// Work is split by units of whole tile rows of one image (`band` tile rows each): a unit copies the
// input rows it reads into scratch with its padding as zeros (no bounds checks in the transforms),
// transforms 4 tiles at a time (the 4x4 patches of 4 neighbouring tiles start 2 columns apart: even and
// odd lanes of two loads), runs the 16 GEMMs and transforms the products back, adding the bias and
// clamping. Every output is computed the same way whichever thread takes its unit: the same bits on
// any thread count. The tile columns are padded to a multiple of 4 (tw4); padded tiles are computed
// from zeros and never stored.
#include <wasm_simd128.h>
#include "eltwise-chain.h"

#define NR 8
#define PANEL_FLOATS(K) (((K) + 1) * NR)
#define KILN_EXPORT(name) __attribute__((export_name(#name))) name
enum { GEMM_CLAMP = 2 };
void kiln_gemm_f32(const float *a, int lda, const float *b_packed, float *c, int ldc, int M, int N, int K, int flags,
                   float lo_value, float hi_value);

#define EVENS(a, b) wasm_i32x4_shuffle((a), (b), 0, 2, 4, 6)
#define ODDS(a, b) wasm_i32x4_shuffle((a), (b), 1, 3, 5, 7)

/** Floats of one unit's scratch (kernels/conv/wasm-winograd.ts computes the same). */
static int band_rows(int band) { return 2 * band + 2; }
static int band_width(int tw4) { return 2 * tw4 + 8; }

/**
 * Y = clamp(conv3x3(X, W) + bias) for X [batch, cin, IH, IW], pads (ph, pw) at the top and left (the
 * bottom and right follow from OH, OW), u = transformed weights [16][cout][cin], bias [cout] or null;
 * then the tail (kiln_run_tail: prog's first `pre` instructions in place, the rest into z) over each
 * unit's rows. Units [u0, u1) of batch * ceil(ceil(OH / 2) / band).
 */
void KILN_EXPORT(kiln_conv_winograd_f32)(const float *x, const float *u, const float *bias, float *y, float *scratch,
                                         int batch, int cin, int cout, int ih, int iw, int oh, int ow, int ph, int pw,
                                         int band, int flags, float lo_value, float hi_value, const int *prog, int pre,
                                         int count, float *z, int u0, int u1) {
  const int th = (oh + 1) / 2, tw = (ow + 1) / 2, tw4 = (tw + 3) / 4 * 4;
  const int bands = (th + band - 1) / band;
  const int tiles = band * tw4; // the GEMMs' N: whole bands, padded rows included
  const int panels = (tiles + NR - 1) / NR;
  const int rows = band_rows(band), wp = band_width(tw4);
  float *plane = scratch;                                     // rows x wp: one input channel's band
  float *v = plane + rows * wp;                               // 16 x panels x PANEL_FLOATS(cin)
  float *m = v + 16 * panels * PANEL_FLOATS(cin);             // 16 x cout x tiles
  const int vstride = panels * PANEL_FLOATS(cin), mstride = cout * tiles;
  const v128_t lo = wasm_f32x4_splat(lo_value), hi = wasm_f32x4_splat(hi_value);
  const int clamp = flags & GEMM_CLAMP;
  (void)batch;
  // the panels' bias rows and the columns past `tiles` in the last panel are zero (the transforms write neither)
  for (int xi = 0; xi < 16; xi++) {
    for (int p = 0; p < panels; p++) __builtin_memset(v + xi * vstride + p * PANEL_FLOATS(cin), 0, NR * 4);
    if (tiles % NR) {
      float *last = v + xi * vstride + (panels - 1) * PANEL_FLOATS(cin) + NR;
      for (int ci = 0; ci < cin; ci++) __builtin_memset(last + ci * NR + tiles % NR, 0, (unsigned long)(NR - tiles % NR) * 4);
    }
  }
  for (int unit = u0; unit < u1; unit++) {
    const int img = unit / bands, t0 = (unit % bands) * band; // first tile row of the unit
    const int nb = th - t0 < band ? th - t0 : band;            // tile rows it has
    const int iy0 = 2 * t0 - ph;                               // input row of the plane's row 0
    for (int ci = 0; ci < cin; ci++) {
      const float *xc = x + (img * cin + ci) * ih * iw;
      for (int r = 0; r < rows; r++) {
        float *dst = plane + r * wp;
        const int iy = iy0 + r;
        const int from = pw < wp ? pw : wp, to = pw + iw < wp ? pw + iw : wp;
        if (r >= 2 * nb + 2 || iy < 0 || iy >= ih || from >= to) {
          __builtin_memset(dst, 0, (unsigned long)wp * 4);
          continue;
        }
        __builtin_memset(dst, 0, (unsigned long)from * 4);
        __builtin_memcpy(dst + from, xc + iy * iw, (unsigned long)(to - from) * 4);
        __builtin_memset(dst + to, 0, (unsigned long)(wp - to) * 4);
      }
      // V = B^T d B for 4 tiles at a time; d[r][c] holds the 4 tiles' patch element (r, c)
      for (int tr = 0; tr < band; tr++) {
        for (int tc = 0; tc < tw4; tc += 4) {
          v128_t d[4][4];
          for (int r = 0; r < 4; r++) {
            const float *row = plane + (2 * tr + r) * wp + 2 * tc;
            const v128_t a = wasm_v128_load(row), b = wasm_v128_load(row + 4);
            const v128_t a2 = wasm_v128_load(row + 2), b2 = wasm_v128_load(row + 6);
            d[r][0] = EVENS(a, b);
            d[r][1] = ODDS(a, b);
            d[r][2] = EVENS(a2, b2);
            d[r][3] = ODDS(a2, b2);
          }
          v128_t t[4][4]; // B^T d
          for (int c = 0; c < 4; c++) {
            t[0][c] = wasm_f32x4_sub(d[0][c], d[2][c]);
            t[1][c] = wasm_f32x4_add(d[1][c], d[2][c]);
            t[2][c] = wasm_f32x4_sub(d[2][c], d[1][c]);
            t[3][c] = wasm_f32x4_sub(d[1][c], d[3][c]);
          }
          const int tile = tr * tw4 + tc;
          float *at = v + (tile / NR) * PANEL_FLOATS(cin) + NR + ci * NR + tile % NR;
          for (int r = 0; r < 4; r++) { // (B^T d) B, row r -> positions 4r .. 4r + 3
            wasm_v128_store(at + (4 * r + 0) * vstride, wasm_f32x4_sub(t[r][0], t[r][2]));
            wasm_v128_store(at + (4 * r + 1) * vstride, wasm_f32x4_add(t[r][1], t[r][2]));
            wasm_v128_store(at + (4 * r + 2) * vstride, wasm_f32x4_sub(t[r][2], t[r][1]));
            wasm_v128_store(at + (4 * r + 3) * vstride, wasm_f32x4_sub(t[r][1], t[r][3]));
          }
        }
      }
    }
    for (int xi = 0; xi < 16; xi++) kiln_gemm_f32(u + xi * cout * cin, cin, v + xi * vstride, m + xi * mstride, tiles, cout, tiles, cin, 0, 0.0f, 0.0f);
    // Y = A^T M A (+ bias, clamp) for 4 tiles at a time; stores only tiles and outputs that exist
    for (int co = 0; co < cout; co++) {
      const v128_t bv = wasm_f32x4_splat(bias ? bias[co] : 0.0f);
      float *yc = y + (img * cout + co) * oh * ow;
      for (int tr = 0; tr < nb; tr++) {
        const int oy = 2 * (t0 + tr);
        for (int tc = 0; tc < tw; tc += 4) {
          const float *mt = m + co * tiles + tr * tw4 + tc;
          v128_t q[16];
          for (int k = 0; k < 16; k++) q[k] = wasm_v128_load(mt + k * mstride);
          v128_t s[2][4]; // A^T M
          for (int c = 0; c < 4; c++) {
            s[0][c] = wasm_f32x4_add(wasm_f32x4_add(q[c], q[4 + c]), q[8 + c]);
            s[1][c] = wasm_f32x4_sub(wasm_f32x4_sub(q[4 + c], q[8 + c]), q[12 + c]);
          }
          v128_t o[2][2]; // (A^T M) A + bias
          for (int r = 0; r < 2; r++) {
            o[r][0] = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(s[r][0], s[r][1]), s[r][2]), bv);
            o[r][1] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_sub(s[r][1], s[r][2]), s[r][3]), bv);
            if (clamp) {
              o[r][0] = wasm_f32x4_min(wasm_f32x4_max(o[r][0], lo), hi);
              o[r][1] = wasm_f32x4_min(wasm_f32x4_max(o[r][1], lo), hi);
            }
          }
          for (int r = 0; r < 2 && oy + r < oh; r++) {
            float *out = yc + (oy + r) * ow + 2 * tc;
            const v128_t first = wasm_i32x4_shuffle(o[r][0], o[r][1], 0, 4, 1, 5); // outputs 2tc .. 2tc + 3
            const v128_t second = wasm_i32x4_shuffle(o[r][0], o[r][1], 2, 6, 3, 7);
            if (2 * tc + 8 <= ow) {
              wasm_v128_store(out, first);
              wasm_v128_store(out + 4, second);
            } else {
              float lane[8];
              wasm_v128_store(lane, first);
              wasm_v128_store(lane + 4, second);
              for (int j = 0; 2 * tc + j < ow && j < 8; j++) out[j] = lane[j];
            }
          }
        }
      }
    }
    // the unit's rows of every channel through the tail (the conv's own activation, a chain after it)
    const int rows_here = 2 * (t0 + nb) < oh ? 2 * nb : oh - 2 * t0;
    if (count > 0) kiln_run_tail(prog, pre, count, y, z, img * cout * oh * ow + 2 * t0 * ow, rows_here * ow, cout, oh * ow);
  }
}
