// com.microsoft MatMulNBits (4-bit and 8-bit blocks) for Kiln's wasm backend: Y = A * W^T (+ bias)
// with w = (q - zero_point) * scale per (row n, block), f32 accumulation as onnxruntime's default
// accuracy level. The weights stay packed; kernels/matmul-nbits/wasm.ts repacks them once at
// session creation so that SIMD unpacks runs of consecutive k:
//   4-bit: per group of G = min(32, block) weights, byte j holds q[j] (low nibble) and q[j + G/2]
//   (high nibble), so the low nibbles of G/2 bytes are weights 0..G/2-1 and the high ones the rest;
//   8-bit: bytes as they are.
// Per block: s = sum over k of a[k] * (q[k] - zp) in f32 (q - zp exact), then acc += scale * s.
// Blocks past K (a partial last block) are read up to K only.
//
// Four output columns (rows of W) at a time share each load of A, and for each group of columns
// every row of A runs while that group's weights are in L1. 4 weights (u8 lanes) become an f32x4 in
// three ops: a swizzle puts each byte in the low byte of a 32-bit lane, an or sets the exponent of
// 2^23 above it (the float 2^23 + q), and one subtract of 2^23 + zp leaves q - zp exactly. (Widening
// u8 -> u16 -> u32 and f32x4.convert_u32x4 was the old way: the unsigned convert is a long sequence
// on x64; widening with a signed convert measured ~25% slower than the swizzle, CPU time, 1x4096x4096.)
#include <wasm_simd128.h>
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name
#define COLS 4

static inline __attribute__((always_inline)) v128_t fma4(v128_t acc, v128_t a, v128_t b) {
#ifdef KILN_RELAXED
  return wasm_f32x4_relaxed_madd(a, b, acc);
#else
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
#endif
}

// The relaxed swizzle is pshufb itself; the plain one adds a saturating add for indices >= 16. Every
// index here is < 16 or 0x80, which both give 0 for (relaxed-SIMD: an index >= 128 always gives 0).
#ifdef KILN_RELAXED
#define SWIZZLE(v, i) wasm_i8x16_relaxed_swizzle((v), (i))
#else
#define SWIZZLE(v, i) wasm_i8x16_swizzle((v), (i))
#endif
#define Z -128
// u8 lanes 4j..4j+3 of v as f32 lanes minus z, where z holds 2^23 + an integer zero point (exact: q - zp)
// or 2^23 alone (then q): byte -> low byte of a 32-bit lane, or'ed under the exponent of 2^23.
#define LANES(v, j, z)                                                                                                 \
  wasm_f32x4_sub(wasm_v128_or(SWIZZLE((v), wasm_i8x16_const(4 * j, Z, Z, Z, 4 * j + 1, Z, Z, Z, 4 * j + 2, Z, Z, Z, 4 * j + 3, Z, Z, Z)), \
                              wasm_i32x4_splat(0x4B000000)),                                                          \
                 (z))

// acc += a[0..15] * (w[0..15] - zp), w the 16 u8 lanes of v. int_zp: the zero point zpf (f32 lanes)
// is an integer and folds into the 2^23 subtracted (exact); else it is subtracted after.
static inline __attribute__((always_inline)) v128_t dot16(v128_t acc, v128_t v, const v128_t *a, const int int_zp, v128_t zpf) {
  const v128_t z = int_zp ? wasm_f32x4_add(zpf, wasm_f32x4_splat(8388608.0f)) : wasm_f32x4_splat(8388608.0f);
  v128_t w0 = LANES(v, 0, z), w1 = LANES(v, 1, z), w2 = LANES(v, 2, z), w3 = LANES(v, 3, z);
  if (!int_zp) {
    w0 = wasm_f32x4_sub(w0, zpf);
    w1 = wasm_f32x4_sub(w1, zpf);
    w2 = wasm_f32x4_sub(w2, zpf);
    w3 = wasm_f32x4_sub(w3, zpf);
  }
  acc = fma4(acc, a[0], w0);
  acc = fma4(acc, a[1], w1);
  acc = fma4(acc, a[2], w2);
  return fma4(acc, a[3], w3);
}

static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// One weight of the repacked layout (scalar tails).
static inline int weight_at(const uint8_t *row, int bits, int bs, int k) {
  if (bits == 8) return row[k];
  const int blk = k / bs, in = k % bs, g = bs < 32 ? bs : 32, grp = in / g, j = in % g, half = g / 2;
  const uint8_t byte = row[(long)blk * (bs / 2) + grp * half + (j % half)];
  return j < half ? (byte & 15) : (byte >> 4);
}

// The 16 weights j0..j0+15 of a full block as u8 lanes (j0 a multiple of 16).
static inline __attribute__((always_inline)) v128_t weights16(const uint8_t *blk_bytes, int bits, int bs, int j0) {
  if (bits == 8) return wasm_v128_load(blk_bytes + j0);
  const v128_t mask = wasm_i8x16_splat(15);
  if (bs == 16) { // 8 bytes: low nibbles weights 0..7, high ones 8..15
    const v128_t v = wasm_v128_load64_zero(blk_bytes);
    return wasm_i8x16_shuffle(wasm_v128_and(v, mask), wasm_u8x16_shr(v, 4), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  }
  // groups of 32 weights in 16 bytes: low nibbles the first 16, high nibbles the next 16
  const v128_t v = wasm_v128_load(blk_bytes + (j0 >> 5) * 16);
  return (j0 & 16) ? wasm_u8x16_shr(v, 4) : wasm_v128_and(v, mask);
}

// cols (1..COLS, a constant after inlining) columns of Y for every row of A.
static inline __attribute__((always_inline)) void columns(const int cols, const int int_zp, const float *a, int m, int k,
                                                          const uint8_t *b, long row_bytes, int bits, int bs, int nblocks,
                                                          const float *scales, const float *zps, const float *bias, float *y,
                                                          int n, int col0) {
  const int full = k / bs; // blocks wholly inside K
  const long blk_bytes = (long)bs * bits / 8;
  for (int r = 0; r < m; r++) {
    const float *ar = a + (long)r * k;
    v128_t acc[COLS];
    for (int c = 0; c < cols; c++) acc[c] = wasm_f32x4_splat(0.0f);
    for (int blk = 0; blk < full; blk++) {
      v128_t s[COLS], zpf[COLS];
      for (int c = 0; c < cols; c++) {
        s[c] = wasm_f32x4_splat(0.0f);
        zpf[c] = wasm_f32x4_splat(zps[(long)(col0 + c) * nblocks + blk]);
      }
      const float *ab = ar + (long)blk * bs;
      for (int j0 = 0; j0 < bs; j0 += 16) {
        const v128_t av[4] = {wasm_v128_load(ab + j0), wasm_v128_load(ab + j0 + 4), wasm_v128_load(ab + j0 + 8), wasm_v128_load(ab + j0 + 12)};
        for (int c = 0; c < cols; c++) {
          const uint8_t *q = b + (col0 + c) * row_bytes + blk * blk_bytes;
          s[c] = dot16(s[c], weights16(q, bits, bs, j0), av, int_zp, zpf[c]);
        }
      }
      for (int c = 0; c < cols; c++) acc[c] = fma4(acc[c], s[c], wasm_f32x4_splat(scales[(long)(col0 + c) * nblocks + blk]));
    }
    for (int c = 0; c < cols; c++) {
      const int col = col0 + c;
      const uint8_t *row = b + col * row_bytes;
      float tail = 0.0f;
      for (int blk = full; blk < nblocks; blk++) { // the partial last block
        const float zp = zps[(long)col * nblocks + blk];
        float st = 0.0f;
        for (int kk = blk * bs; kk < k; kk++) st += ar[kk] * ((float)weight_at(row, bits, bs, kk) - zp);
        tail += st * scales[(long)col * nblocks + blk];
      }
      y[(long)r * n + col] = hsum(acc[c]) + tail + (bias ? bias[col] : 0.0f);
    }
  }
}

/**
 * Columns of groups [g0, g1) of COLS columns (the last group may be partial). Every column is
 * computed the same way whichever range holds it, so the thread pool may split by groups.
 */
static void column_range(const float *a, int m, int k, const uint8_t *b, int bits, int bs, int nblocks, const float *scales,
                         const float *zps, int int_zp, const float *bias, float *y, int n, int g0, int g1) {
  const long row_bytes = (long)nblocks * bs * bits / 8;
  int col = g0 * COLS;
  const int end = g1 * COLS < n ? g1 * COLS : n;
  if (int_zp) {
    for (; col + COLS <= end; col += COLS) columns(COLS, 1, a, m, k, b, row_bytes, bits, bs, nblocks, scales, zps, bias, y, n, col);
    for (; col < end; col++) columns(1, 1, a, m, k, b, row_bytes, bits, bs, nblocks, scales, zps, bias, y, n, col);
  } else {
    for (; col + COLS <= end; col += COLS) columns(COLS, 0, a, m, k, b, row_bytes, bits, bs, nblocks, scales, zps, bias, y, n, col);
    for (; col < end; col++) columns(1, 0, a, m, k, b, row_bytes, bits, bs, nblocks, scales, zps, bias, y, n, col);
  }
}

/** int_zp: every zero point is an integer (uint8 or the default), subtracted exactly in i16. */
void KILN_EXPORT(kiln_nbits_f32)(const float *a, int m, int k, const uint8_t *b, int bits, int bs, int nblocks, const float *scales,
                                 const float *zps, int int_zp, const float *bias, float *y, int n) {
  column_range(a, m, k, b, bits, bs, nblocks, scales, zps, int_zp, bias, y, n, 0, (n + COLS - 1) / COLS);
}

/** kiln_nbits_f32 on column groups [g0, g1) of 4 (the thread pool's parts; scratch unused). */
void KILN_EXPORT(kiln_nbits_f32_part)(const float *a, int m, int k, const uint8_t *b, int bits, int bs, int nblocks, const float *scales,
                                      const float *zps, int int_zp, const float *bias, float *y, int n, int g0, int g1) {
  column_range(a, m, k, b, bits, bs, nblocks, scales, zps, int_zp, bias, y, n, g0, g1);
}

// ---------------------------------------------------------------------------------------------
// Many rows of A (prefill): the kernel above unpacks every weight once per row of A, so at M = 32..512
// it spends most of its time unpacking. Here each K chunk x 8-column panel of W is dequantized once,
// into scratch, in the f32 GEMM's packed panel layout (gemm-f32.c: a bias row, then kl rows of 8), and
// kiln_gemm_f32 runs it over all M rows, accumulating into Y chunk after chunk. A chunk of `group`
// panels x kc rows (8 x 256 floats = 64 KB) stays in L2 while the rows of A pass; the int4 weights
// stay packed between calls (no f32 copy of W kept). The tile sums bias + a[k] w[k] in k order, and
// chunk c + 1 starts from chunk c's stored sums, so Y is the GEMM of A and the dequantized W: the
// same bits for any panel range, which is how the thread pool splits it (kernels/matmul-nbits/wasm.ts).
void kiln_gemm_f32(const float *a, int lda, const float *b_packed, float *c, int ldc, int M, int N, int K, int flags, float lo, float hi);

#define NR 8

// w_c (c = 0..3): column c at 4 consecutive k; stores row r (4 columns) at dst + r * NR.
static inline __attribute__((always_inline)) void transpose_store(v128_t w0, v128_t w1, v128_t w2, v128_t w3, float *dst) {
  const v128_t t0 = wasm_i32x4_shuffle(w0, w1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(w0, w1, 2, 6, 3, 7);
  const v128_t t2 = wasm_i32x4_shuffle(w2, w3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(w2, w3, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
  wasm_v128_store(dst + NR, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
  wasm_v128_store(dst + 2 * NR, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
  wasm_v128_store(dst + 3 * NR, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
}

// Columns n0..n0+7 (those < n; the others 0) of W^T, weights k0..k0+kl-1 (k0 a multiple of bs),
// dequantized into one packed panel: the bias row (bias or zeros), then kl rows of 8.
static void dequant_panel(const uint8_t *b, long row_bytes, int bits, int bs, int nblocks, const float *scales, const float *zps,
                          const float *bias, int n0, int n, int k0, int kl, int k, float *panel) {
  // scalar loops kept rolled: they run once per panel row or only at a partial block (module size)
#pragma clang loop unroll(disable)
  for (int j = 0; j < NR; j++) panel[j] = bias && n0 + j < n ? bias[n0 + j] : 0.0f;
  float *dst = panel + NR;
  const long blk_bytes = (long)bs * bits / 8;
  int kk = 0;
  for (; kk + bs <= kl && k0 + kk + bs <= k; kk += bs) { // whole blocks
    const int blk = (k0 + kk) / bs;
    for (int g = 0; g < NR; g += 4) {
      const v128_t two23 = wasm_f32x4_splat(8388608.0f);
      v128_t zf[4], s[4];
      const uint8_t *q[4];
      for (int c = 0; c < 4; c++) {
        const int col = n0 + g + c, live = col < n;
        // a column past N reads row n0's bytes (in bounds) with scale 0: zeros, as the GEMM's padding
        const float zp = live ? zps[(long)col * nblocks + blk] : 0.0f;
        zf[c] = wasm_f32x4_splat(zp);
        s[c] = wasm_f32x4_splat(live ? scales[(long)col * nblocks + blk] : 0.0f);
        q[c] = b + (long)(live ? col : n0) * row_bytes + blk * blk_bytes;
      }
      for (int j0 = 0; j0 < bs; j0 += 16) {
        v128_t v[4];
        for (int c = 0; c < 4; c++) v[c] = weights16(q[c], bits, bs, j0);
        float *d = dst + (long)(kk + j0) * NR + g;
        // lanes 4i..4i+3 of each column as (q - zp) * scale, transposed into 4 panel rows: LANES' swizzle
        // with the byte indices moved by 4 per step (the Z lanes stay >= 128: zero for both swizzles).
        // One f32 subtract of zp serves integer and float zero points (exact for integers). Not
        // unrolled: the module's size budget, and this loop is not the hot one (the GEMM is).
        v128_t idx = wasm_i8x16_const(0, Z, Z, Z, 1, Z, Z, Z, 2, Z, Z, Z, 3, Z, Z, Z);
#pragma clang loop unroll(disable)
        for (int i = 0; i < 4; i++, d += 4 * NR, idx = wasm_i8x16_add(idx, wasm_i8x16_splat(4))) {
          v128_t w[4];
          for (int c = 0; c < 4; c++) {
            const v128_t f = wasm_f32x4_sub(wasm_v128_or(SWIZZLE(v[c], idx), wasm_i32x4_splat(0x4B000000)), two23);
            w[c] = wasm_f32x4_mul(wasm_f32x4_sub(f, zf[c]), s[c]);
          }
          transpose_store(w[0], w[1], w[2], w[3], d);
        }
      }
    }
  }
  for (; kk < kl; kk++) { // the partial last block
    const int kg = k0 + kk, blk = kg / bs;
#pragma clang loop unroll(disable)
    for (int j = 0; j < NR; j++) {
      const int col = n0 + j;
      dst[(long)kk * NR + j] = col < n ? ((float)weight_at(b + (long)col * row_bytes, bits, bs, kg) - zps[(long)col * nblocks + blk]) * scales[(long)col * nblocks + blk] : 0.0f;
    }
  }
}

/**
 * Y[:, panels p0..p1) = A * dequant(W)^T (+ bias) for M >= 4, W repacked as for kiln_nbits_f32. kc (a
 * multiple of bs) rows and `group` panels are dequantized at a time into scratch, which holds
 * group * (kc + 1) * 8 floats.
 */
void KILN_EXPORT(kiln_nbits_gemm_f32)(const float *a, int m, int k, const uint8_t *b, int bits, int bs, int nblocks, const float *scales,
                                      const float *zps, int int_zp, const float *bias, float *y, int n, int kc, int group, float *scratch,
                                      int p0, int p1) {
  (void)int_zp; // kiln_nbits_f32's arguments, for one call shape; the dequantization needs no integer case
  const long row_bytes = (long)nblocks * bs * bits / 8;
  for (int g0 = p0; g0 < p1; g0 += group) {
    const int g1 = g0 + group < p1 ? g0 + group : p1;
    const int n0 = g0 * NR, n1 = g1 * NR < n ? g1 * NR : n;
    for (int k0 = 0; k0 < k; k0 += kc) {
      const int kl = k - k0 < kc ? k - k0 : kc;
      for (int p = g0; p < g1; p++) {
        dequant_panel(b, row_bytes, bits, bs, nblocks, scales, zps, k0 ? 0 : bias, p * NR, n, k0, kl, k, scratch + (long)(p - g0) * (kl + 1) * NR);
      }
      kiln_gemm_f32(a + k0, k, scratch, y + n0, n, m, n1 - n0, kl, k0 ? 1 : 0, 0.0f, 0.0f);
    }
  }
}
