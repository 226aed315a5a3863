// 8-bit integer GEMM for Kiln's wasm backend (QLinearMatMul, MatMulInteger, QLinearConv,
// ConvInteger): C[M,N] = requant((A - za)[M,K] * (B - zb)[K,N] + bias), exact in int32.
//
// Operands are widened to int16 with their zero points already subtracted (values in
// [-255, 255]), so u8 x u8, u8 x s8, s8 x s8 all take one path and no row/column-sum correction is
// needed; i32x4.dot_i16x8_s then does two exact multiply-adds per lane (|pair sum| <= 130050).
// Padding past K and N is 0, which contributes nothing. B is packed (kiln_pack_b_s16, once at
// session creation for constant weights) into panels of NR = 8 columns: for each pair of rows
// (k, k+1), 8 columns x 2 values, interleaved as dot_i16x8_s wants them
//   [b(k,0) b(k+1,0) b(k,1) b(k+1,1) b(k,2) b(k+1,2) b(k,3) b(k+1,3)] [same for columns 4..7].
// A row's pair (a(k), a(k+1)) is one 32-bit splat. Kp = K rounded up to even.
//
// Epilogues (out_mode): 0 int32 (+ bias); 1 onnxruntime's MLAS requantization
// (float32(acc) * multiplier rounded to float32, then half to even, + zero point, saturated); 2 the
// ONNX reference's exact rounding of acc * multiplier (kernels/common/quant.ts mulRoundHalfEven).
// Bytes are stored as their low 8 bits, which is the int8 or uint8 value after saturation. With a
// table (a kiln.QLinearLookup folded into the op: the activation that follows it on 8 bits), the
// byte stored is table[byte ^ flip] (flip 0x80 for int8, so index = q - type minimum), still in
// registers' reach instead of a second pass over the tensor.
#include <wasm_simd128.h>
#include <stdint.h>

#define NR 8
#define MR 4
#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

enum { OUT_I32 = 0, OUT_MLAS = 1, OUT_EXACT = 2 };

// Element i of an 8-bit operand as int, signed or not.
static inline int load8(const void *p, int i, int is_signed) {
  return is_signed ? (int)((const int8_t *)p)[i] : (int)((const uint8_t *)p)[i];
}

// A (M x K, row stride lda elements) minus its zero point (8-bit like A: one, or one per row) into int16
// rows of kp values (zero padded).
void KILN_EXPORT(kiln_widen_a_s16)(const void *a, int lda, int m, int k, int is_signed, const void *zp, int zp_per_row, int16_t *out, int kp) {
  for (int r = 0; r < m; r++) {
    const int z = zp ? load8(zp, zp_per_row ? r : 0, is_signed) : 0;
    int16_t *o = out + (long)r * kp;
    const long base = (long)r * lda;
    for (int c = 0; c < k; c++) o[c] = (int16_t)(load8(a, base + c, is_signed) - z);
    for (int c = k; c < kp; c++) o[c] = 0;
  }
}

// B (K x N with row stride ldb, or N x K when trans) minus its zero point (one, or one per column)
// into NR-column panels of kp rows (layout above).
void KILN_EXPORT(kiln_pack_b_s16)(const void *b, int ldb, int k, int n, int trans, int is_signed, const void *zp, int zp_per_col, int16_t *out) {
  const int kp = (k + 1) & ~1;
  const int panels = (n + NR - 1) / NR;
  int full = 0;
  if (!trans && !zp_per_col) {
    // whole panels, two rows at a time: 8 bytes of each widened, shifted and interleaved
    const v128_t z = wasm_i16x8_splat((int16_t)(zp ? load8(zp, 0, is_signed) : 0));
    full = n / NR;
    for (int p = 0; p < full; p++) {
      int16_t *o = out + (long)p * kp * NR;
      for (int kk = 0; kk < kp; kk += 2, o += 2 * NR) {
        const uint8_t *r0 = (const uint8_t *)b + (long)kk * ldb + p * NR;
        const v128_t v0 = wasm_i16x8_sub(is_signed ? wasm_i16x8_load8x8(r0) : wasm_u16x8_load8x8(r0), z);
        const v128_t v1 = kk + 1 < k ? wasm_i16x8_sub(is_signed ? wasm_i16x8_load8x8(r0 + ldb) : wasm_u16x8_load8x8(r0 + ldb), z) : wasm_i16x8_splat(0);
        wasm_v128_store(o, wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11));
        wasm_v128_store(o + 8, wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15));
      }
    }
  }
  for (int p = full; p < panels; p++) {
    int16_t *o = out + (long)p * kp * NR;
    for (int kk = 0; kk < kp; kk++) {
      for (int j = 0; j < NR; j++) {
        const int col = p * NR + j;
        int v = 0;
        if (kk < k && col < n) {
          const long at = trans ? (long)col * ldb + kk : (long)kk * ldb + col;
          v = load8(b, at, is_signed) - (zp ? load8(zp, zp_per_col ? col : 0, is_signed) : 0);
        }
        o[(kk >> 1) * 2 * NR + j * 2 + (kk & 1)] = (int16_t)v;
      }
    }
  }
}

// round_half_even(acc * m) exactly, as kernels/common/quant.ts mulRoundHalfEven: in float64 where
// the product is exact (|acc| < 2^29, 24-bit m), else in 64-bit integers.
static int64_t mul_round_exact(int32_t acc, float m) {
  if (acc > -(1 << 29) && acc < (1 << 29)) {
    const double r = __builtin_nearbyint((double)acc * (double)m);
    return r > 4e18 ? (int64_t)4e18 : r < -4e18 ? -(int64_t)4e18 : (int64_t)r;
  }
  union { float f; uint32_t u; } bits = { m };
  const int ex = (bits.u >> 23) & 0xff;
  const uint64_t sig = ex == 0 ? (bits.u & 0x7fffff) : ((bits.u & 0x7fffff) | 0x800000);
  const int e = (ex == 0 ? 1 : ex) - 150;
  const uint64_t p = (uint64_t)(acc < 0 ? -(int64_t)acc : acc) * sig;
  uint64_t q;
  if (e >= 0) q = e >= 8 ? (uint64_t)1 << 62 : p << e; // |acc| >= 2^29 and m >= 2^23: saturates anyway
  else if (-e >= 63) q = 0; // p < 2^55 is below half of 2^-e
  else {
    const int s = -e;
    q = p >> s;
    const uint64_t rem = p - (q << s), half = (uint64_t)1 << (s - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
  }
  const int neg = (acc < 0) != (int)(bits.u >> 31);
  return neg ? -(int64_t)q : (int64_t)q;
}

typedef struct {
  int mode, zp, lo, hi;
  const int32_t *bias;
  int bias_per_row;
  const float *mult;
  int mult_per_row;
  const uint8_t *table;
  int flip;
} Epilogue;

static inline __attribute__((always_inline)) void store_bytes(const Epilogue *e, uint8_t *o, v128_t bytes, int nc) {
  uint8_t tmp[16];
  if (!e->table) {
    if (nc == NR) {
      wasm_v128_store64_lane(o, bytes, 0);
      return;
    }
    wasm_v128_store(tmp, bytes);
    for (int j = 0; j < nc; j++) o[j] = tmp[j];
    return;
  }
  wasm_v128_store(tmp, bytes);
  for (int j = 0; j < nc; j++) o[j] = e->table[tmp[j] ^ e->flip];
}

static inline __attribute__((always_inline)) void store_tile_row(const Epilogue *e, void *c, long row_off, int row, int n0, int nc, v128_t v0, v128_t v1) {
  if (e->bias) {
    if (e->bias_per_row) {
      const v128_t b = wasm_i32x4_splat(e->bias[row]);
      v0 = wasm_i32x4_add(v0, b);
      v1 = wasm_i32x4_add(v1, b);
    } else {
      v0 = wasm_i32x4_add(v0, wasm_v128_load(e->bias + n0));
      v1 = wasm_i32x4_add(v1, wasm_v128_load(e->bias + n0 + 4));
    }
  }
  int32_t acc[NR];
  if (e->mode == OUT_I32) {
    int32_t *o = (int32_t *)c + row_off + n0;
    if (nc == NR) {
      wasm_v128_store(o, v0);
      wasm_v128_store(o + 4, v1);
      return;
    }
    wasm_v128_store(acc, v0);
    wasm_v128_store(acc + 4, v1);
    for (int j = 0; j < nc; j++) o[j] = acc[j];
    return;
  }
  uint8_t *o = (uint8_t *)c + row_off + n0;
  if (e->mode == OUT_MLAS) {
    v128_t m0, m1;
    if (e->mult_per_row) m0 = m1 = wasm_f32x4_splat(e->mult[row]);
    else {
      m0 = wasm_v128_load(e->mult + n0);
      m1 = wasm_v128_load(e->mult + n0 + 4);
    }
    const v128_t lo = wasm_f32x4_splat((float)(e->lo - e->zp)), hi = wasm_f32x4_splat((float)(e->hi - e->zp));
    // Clamped first (the bounds are integers, so clamp and round commute), then rounded half to
    // even by adding 1.5 * 2^23: in [2^23, 2^24) a float's last bit is 1, so the sum is the
    // rounded value's bits + 0x4B400000 (one add and one integer subtract for nearest + trunc_sat,
    // which V8 lowers to a long sequence on x64). The zero point joins the subtraction. The clamp is
    // pmax/pmin (one maxps/minps each on x64; max/min are ~7 instructions for their NaN and signed-zero
    // rules, whose results here are the same for every finite multiplier: cls convs 1888 -> 1635 us).
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    const v128_t bias = wasm_i32x4_splat(0x4B400000 - e->zp);
    v128_t f0 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(v0), m0);
    v128_t f1 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(v1), m1);
    f0 = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(f0, lo), hi), magic);
    f1 = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(f1, lo), hi), magic);
    const v128_t q0 = wasm_i32x4_sub(f0, bias);
    const v128_t q1 = wasm_i32x4_sub(f1, bias);
    const v128_t h = wasm_i16x8_narrow_i32x4(q0, q1); // in [-128, 255]: exact
    store_bytes(e, o, wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), nc);
    return;
  }
  wasm_v128_store(acc, v0);
  wasm_v128_store(acc + 4, v1);
  for (int j = 0; j < nc; j++) {
    int64_t q = mul_round_exact(acc[j], e->mult[e->mult_per_row ? row : n0 + j]) + e->zp;
    q = q < e->lo ? e->lo : q > e->hi ? e->hi : q;
    o[j] = e->table ? e->table[(uint8_t)q ^ e->flip] : (uint8_t)q;
  }
}

#define DOT(s, b) wasm_i32x4_dot_i16x8(s, b)

// C = epilogue(A * B): A int16 (m x kp, row stride lda elements, lda even), B packed by
// kiln_pack_b_s16 for the same kp and n, C int32 or bytes with row stride ldc elements; table 0 or
// a 256-byte lookup applied to the bytes (8-bit modes only). Panels
// outermost: one panel (kp x 8 values) stays in L1 while the rows of A stream past it.
void KILN_EXPORT(kiln_gemm_s16)(const int16_t *a, int lda, const int16_t *bp, void *c, int ldc, int m, int n, int kp, int mode, const int32_t *bias, int bias_per_row, const float *mult, int mult_per_row, int zp, int lo, int hi, const uint8_t *table, int flip) {
  const Epilogue e = { mode, zp, lo, hi, bias, bias_per_row, mult, mult_per_row, table, flip };
  const int panels = (n + NR - 1) / NR;
  for (int p = 0; p < panels; p++) {
    const int16_t *panel = bp + (long)p * kp * NR;
    const int n0 = p * NR;
    const int nc = n - n0 < NR ? n - n0 : NR;
    for (int m0 = 0; m0 < m; m0 += MR) {
      const int mr = m - m0 < MR ? m - m0 : MR;
      const int16_t *a0 = a + (long)m0 * lda;
      const int16_t *a1 = mr > 1 ? a0 + lda : a0;
      const int16_t *a2 = mr > 2 ? a0 + 2 * (long)lda : a0;
      const int16_t *a3 = mr > 3 ? a0 + 3 * (long)lda : a0;
      v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const int16_t *b = panel;
      for (int k = 0; k < kp; k += 2, b += 2 * NR) {
        const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 8);
        const v128_t s0 = wasm_v128_load32_splat(a0 + k);
        const v128_t s1 = wasm_v128_load32_splat(a1 + k);
        c00 = wasm_i32x4_add(c00, DOT(s0, b0));
        c01 = wasm_i32x4_add(c01, DOT(s0, b1));
        c10 = wasm_i32x4_add(c10, DOT(s1, b0));
        c11 = wasm_i32x4_add(c11, DOT(s1, b1));
        const v128_t s2 = wasm_v128_load32_splat(a2 + k);
        const v128_t s3 = wasm_v128_load32_splat(a3 + k);
        c20 = wasm_i32x4_add(c20, DOT(s2, b0));
        c21 = wasm_i32x4_add(c21, DOT(s2, b1));
        c30 = wasm_i32x4_add(c30, DOT(s3, b0));
        c31 = wasm_i32x4_add(c31, DOT(s3, b1));
      }
      store_tile_row(&e, c, (long)m0 * ldc, m0, n0, nc, c00, c01);
      if (mr > 1) store_tile_row(&e, c, (long)(m0 + 1) * ldc, m0 + 1, n0, nc, c10, c11);
      if (mr > 2) store_tile_row(&e, c, (long)(m0 + 2) * ldc, m0 + 2, n0, nc, c20, c21);
      if (mr > 3) store_tile_row(&e, c, (long)(m0 + 3) * ldc, m0 + 3, n0, nc, c30, c31);
    }
  }
}

// im2col of one image's group of channels (c x ih x iw, 8-bit) minus the zero point, straight into
// kiln_pack_b_s16's panel layout: K = c * kh * kw rows, N = oh * ow positions. Taps in the padding
// read as the zero point, i.e. 0. A panel's 8 positions are filled for a pair of rows at a time and
// stored interleaved as two vectors; where the 8 lie in one output row and inside the input (the
// common case), a row's 8 values are one load (strides 1 and 2), else they go element by element.
typedef struct {
  const uint8_t *plane;
  int ky, kx, live;
} Im2colRow;

static inline __attribute__((always_inline)) Im2colRow im2col_row(const void *x, int row, int k, int ih, int iw, int kh, int kw) {
  const int ci = row / (kh * kw), t = row % (kh * kw);
  const Im2colRow r = { (const uint8_t *)x + (long)ci * ih * iw, t / kw, t % kw, row < k };
  return r;
}

// the row's values at the 8 positions from output (y, xo) on, int16
static inline __attribute__((always_inline)) v128_t im2col_row8(const Im2colRow *r, int is_signed, int zp, int ih, int iw, int oh, int ow, int sh, int sw, int ph, int pw, int dh, int dw, int y, int xo) {
  if (!r->live) return wasm_i16x8_splat(0);
  if (xo + 8 <= ow) {
    const int iy = y * sh - ph + r->ky * dh, ix0 = xo * sw - pw + r->kx * dw;
    if (iy < 0 || iy >= ih) return wasm_i16x8_splat(0);
    const uint8_t *src = r->plane + (long)iy * iw + ix0;
    const v128_t vz = wasm_i16x8_splat((int16_t)zp);
    if (ix0 >= 0 && sw == 1 && ix0 + 8 <= iw) return wasm_i16x8_sub(is_signed ? wasm_i16x8_load8x8(src) : wasm_u16x8_load8x8(src), vz);
    if (ix0 >= 0 && sw == 2 && ix0 + 16 <= iw) {
      const v128_t v = wasm_v128_load(src); // the even bytes of 16
      const v128_t e = wasm_i8x16_shuffle(v, v, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
      return wasm_i16x8_sub(is_signed ? wasm_i16x8_extend_low_i8x16(e) : wasm_u16x8_extend_low_u8x16(e), vz);
    }
  }
  int16_t v[8];
  for (int j = 0; j < 8; j++, xo++) {
    if (xo == ow) xo = 0, y++;
    const int iy = y * sh - ph + r->ky * dh, ix = xo * sw - pw + r->kx * dw;
    v[j] = (int16_t)(y < oh && iy >= 0 && iy < ih && ix >= 0 && ix < iw ? load8(r->plane, (long)iy * iw + ix, is_signed) - zp : 0);
  }
  return wasm_v128_load(v);
}

void KILN_EXPORT(kiln_im2col_s16)(const void *x, int is_signed, int zp, int c, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int16_t *out) {
  const int k = c * kh * kw, kp = (k + 1) & ~1, n = oh * ow, panels = (n + NR - 1) / NR;
  for (int row = 0; row < kp; row += 2) {
    const Im2colRow r0 = im2col_row(x, row, k, ih, iw, kh, kw), r1 = im2col_row(x, row + 1, k, ih, iw, kh, kw);
    int16_t *o = out + (long)row * NR;
    int y = 0, xo = 0;
    for (int p = 0; p < panels; p++, o += (long)kp * NR) {
      const v128_t v0 = im2col_row8(&r0, is_signed, zp, ih, iw, oh, ow, sh, sw, ph, pw, dh, dw, y, xo);
      const v128_t v1 = im2col_row8(&r1, is_signed, zp, ih, iw, oh, ow, sh, sw, ph, pw, dh, dw, y, xo);
      wasm_v128_store(o, wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11));
      wasm_v128_store(o + 8, wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15));
      for (xo += NR; xo >= ow; xo -= ow) y++;
    }
  }
}

// QuantizeLinear, float32 -> 8-bit: y = saturate(round_half_even(x / s) + z), NaN -> z. Parameters
// per tensor (axis_dim 1) or per axis: x is outer x axis_dim x inner.
void KILN_EXPORT(kiln_quantize_f32)(const float *x, uint8_t *y, int outer, int axis_dim, int inner, const float *scale, const void *zp, int zp_signed, int lo, int hi) {
  long i = 0;
  for (int o = 0; o < outer; o++) {
    for (int a = 0; a < axis_dim; a++) {
      const float s = scale[a];
      const int z = zp ? load8(zp, a, zp_signed) : 0;
      const v128_t vs = wasm_f32x4_splat(s), vlo = wasm_f32x4_splat((float)(lo - z)), vhi = wasm_f32x4_splat((float)(hi - z)), vz = wasm_i32x4_splat(z);
      // clamped, then rounded half to even by adding 1.5 * 2^23 (the bounds are integers, so clamp
      // and round commute: the MLAS epilogue above does the same); NaN (pmax/pmin with d first keep it:
      // one instruction each on x64, max/min ~7) gives z
      const v128_t magic = wasm_f32x4_splat(12582912.0f), vbias = wasm_i32x4_splat(0x4B400000 - z);
      int j = 0;
      for (; j + 16 <= inner; j += 16, i += 16) {
        v128_t q[4];
        for (int u = 0; u < 4; u++) {
          const v128_t d = wasm_f32x4_div(wasm_v128_load(x + i + 4 * u), vs);
          const v128_t f = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(d, vlo), vhi), magic);
          q[u] = wasm_v128_bitselect(wasm_i32x4_sub(f, vbias), vz, wasm_f32x4_eq(d, d));
        }
        const v128_t h0 = wasm_i16x8_narrow_i32x4(q[0], q[1]), h1 = wasm_i16x8_narrow_i32x4(q[2], q[3]);
        wasm_v128_store(y + i, wasm_i8x16_shuffle(h0, h1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
      }
      for (; j < inner; j++, i++) {
        float f = __builtin_nearbyintf(x[i] / s);
        int q = f != f ? z : f < (float)(lo - z) ? lo : f > (float)(hi - z) ? hi : (int)f + z;
        y[i] = (uint8_t)q;
      }
    }
  }
}

// DequantizeLinear, 8-bit -> float32: y = (x - z) * s (exact difference, one float32 rounding).
void KILN_EXPORT(kiln_dequantize_f32)(const void *x, int is_signed, float *y, int outer, int axis_dim, int inner, const float *scale, const void *zp) {
  long i = 0;
  for (int o = 0; o < outer; o++) {
    for (int a = 0; a < axis_dim; a++) {
      const float s = scale[a];
      const int z = zp ? load8(zp, a, is_signed) : 0;
      const v128_t vs = wasm_f32x4_splat(s), vz = wasm_i32x4_splat(z);
      int j = 0;
      for (; j + 8 <= inner; j += 8, i += 8) {
        const v128_t w = is_signed ? wasm_i16x8_load8x8((const int8_t *)x + i) : wasm_u16x8_load8x8((const uint8_t *)x + i);
        const v128_t lo = wasm_i32x4_sub(wasm_i32x4_extend_low_i16x8(w), vz), hi = wasm_i32x4_sub(wasm_i32x4_extend_high_i16x8(w), vz);
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(lo), vs));
        wasm_v128_store(y + i + 4, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(hi), vs));
      }
      for (; j < inner; j++, i++) y[i] = (float)(load8(x, i, is_signed) - z) * s;
    }
  }
}

// Depthwise conv (one input and one output channel per group), direct: per channel the input plane
// minus its zero point is copied into an int16 plane with the padding as 0 (scratch), then 8
// outputs of a row at a time accumulate every tap in registers (i32x4.extmul of int16) and go
// through the GEMM's epilogue (bias, multiplier and zero point per channel).
// w: channels x (kh * kw) int16, already minus the weight zero points.
void KILN_EXPORT(kiln_dwconv_s16)(const void *x, int is_signed, int xz, const int16_t *w, void *y, int batch, int channels, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int mode, const int32_t *bias, const float *mult, int zp, int lo, int hi, const uint8_t *table, int flip, int16_t *scratch) {
  const int ow8 = (ow + 7) & ~7;
  const int PH = (oh - 1) * sh + (kh - 1) * dh + 1;
  const int PW = ow8 * sw + (kw - 1) * dw + 8;
  int16_t *plane = scratch;
  const Epilogue e = { mode, zp, lo, hi, bias, 1, mult, 1, table, flip };
  const int taps = kh * kw;
  // strides 1 and 2 across without dilation: two taps per i32x4.dot_i16x8_s (exact, as the
  // one-tap extmul path: the same int32 sums in another order)
  const int pairs_x = (kw + 1) / 2;
  enum { MAX_PAIRS = 64 };
  const int paired = dw == 1 && (sw == 1 || sw == 2) && kh * pairs_x <= MAX_PAIRS;
  v128_t wpair[MAX_PAIRS];
  for (int n = 0; n < batch; n++) {
    for (int c = 0; c < channels; c++) {
      const long in0 = ((long)n * channels + c) * ih * iw;
      const v128_t vz = wasm_i16x8_splat((int16_t)xz);
      for (int r = 0; r < PH; r++) {
        const int iy = r - ph;
        int16_t *o = plane + (long)r * PW;
        if (iy < 0 || iy >= ih) {
          for (int q = 0; q < PW; q++) o[q] = 0;
          continue;
        }
        // zeros left of the row, the row minus the zero point (8 at a time), zeros right of it
        const int x0 = pw < PW ? pw : PW, x1 = pw + iw < PW ? pw + iw : PW;
        for (int q = 0; q < x0; q++) o[q] = 0;
        const uint8_t *src = (const uint8_t *)x + in0 + (long)iy * iw - pw;
        int q = x0;
        for (; q + 8 <= x1; q += 8) wasm_v128_store(o + q, wasm_i16x8_sub(is_signed ? wasm_i16x8_load8x8(src + q) : wasm_u16x8_load8x8(src + q), vz));
        for (; q < x1; q++) o[q] = (int16_t)(load8(src, q, is_signed) - xz);
        for (q = x1; q < PW; q++) o[q] = 0;
      }
      const int16_t *wc = w + (long)c * taps;
      const long out0 = ((long)n * channels + c) * oh * ow;
      if (paired) {
        // taps (kx, kx + 1) of a kernel row as one i16 pair (the odd one out paired with 0)
        for (int ky = 0; ky < kh; ky++)
          for (int j = 0; j < pairs_x; j++) {
            const int k0 = 2 * j, k1 = k0 + 1;
            const uint32_t lo16 = (uint16_t)wc[ky * kw + k0], hi16 = k1 < kw ? (uint16_t)wc[ky * kw + k1] : 0;
            wpair[ky * pairs_x + j] = wasm_i32x4_splat((int32_t)(lo16 | hi16 << 16));
          }
        for (int yo = 0; yo < oh; yo++) {
          const int16_t *top = plane + (long)yo * sh * PW;
          for (int q = 0; q < ow; q += 8) {
            v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
            for (int ky = 0; ky < kh; ky++) {
              const int16_t *row = top + (long)ky * dh * PW + q * sw;
              const v128_t *wp = wpair + ky * pairs_x;
              for (int j = 0; j < pairs_x; j++) {
                const int16_t *at = row + 2 * j;
                v128_t v0, v1;
                if (sw == 2) {
                  // output i reads at[2i], at[2i + 1]: the pairs are adjacent already
                  v0 = wasm_v128_load(at);
                  v1 = wasm_v128_load(at + 8);
                } else {
                  // output i reads at[i], at[i + 1]
                  v0 = wasm_i16x8_shuffle(wasm_v128_load(at), wasm_v128_load(at), 0, 1, 1, 2, 2, 3, 3, 4);
                  v1 = wasm_i16x8_shuffle(wasm_v128_load(at + 4), wasm_v128_load(at + 4), 0, 1, 1, 2, 2, 3, 3, 4);
                }
                a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(v0, wp[j]));
                a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(v1, wp[j]));
              }
            }
            store_tile_row(&e, y, out0 + (long)yo * ow, c, q, ow - q < 8 ? ow - q : 8, a0, a1);
          }
        }
        continue;
      }
      for (int yo = 0; yo < oh; yo++) {
        const int16_t *top = plane + (long)yo * sh * PW;
        // 8 outputs at a time, every tap accumulated in registers, then the epilogue
        for (int q = 0; q < ow; q += 8) {
          v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
          for (int ky = 0; ky < kh; ky++) {
            const int16_t *row = top + (long)ky * dh * PW + q * sw;
            for (int kx = 0; kx < kw; kx++) {
              const int16_t *at = row + kx * dw;
              v128_t v;
              if (sw == 1) v = wasm_v128_load(at);
              else if (sw == 2) v = wasm_i16x8_shuffle(wasm_v128_load(at), wasm_v128_load(at + 8), 0, 2, 4, 6, 8, 10, 12, 14);
              else {
                int16_t t[8];
                for (int j = 0; j < 8; j++) t[j] = at[j * sw];
                v = wasm_v128_load(t);
              }
              const v128_t vw = wasm_i16x8_splat(wc[ky * kw + kx]);
              a0 = wasm_i32x4_add(a0, wasm_i32x4_extmul_low_i16x8(v, vw));
              a1 = wasm_i32x4_add(a1, wasm_i32x4_extmul_high_i16x8(v, vw));
            }
          }
          store_tile_row(&e, y, out0 + (long)yo * ow, c, q, ow - q < 8 ? ow - q : 8, a0, a1);
        }
      }
    }
  }
}
