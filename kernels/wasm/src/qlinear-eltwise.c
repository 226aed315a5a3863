// Elementwise quantized kernels for Kiln's wasm backend.
//
// kiln_qlinear_add: com.microsoft QLinearAdd with onnxruntime's arithmetic (MLAS qladd.cpp's
// portable path, every step float32), as kernels/qlinear-binary/op.ts writes it:
//   va = sa * (a - za); vb = sb * (b - zb); v = (va + vb) / sc; v = clamp(v, lo - zc, hi - zc);
//   c = round_half_even(v + zc)
// Broadcast forms as kiln_binary_f32: 0 same shape; 1 b holds one value per (outer, mid) row of
// inner elements; 2 the same with a.
//
// kiln_qdq_f32: kiln.QuantizeDequantize per tensor: y = (saturate(rint(x / s) + z) - z) * s, NaN -> 0.
#include <wasm_simd128.h>
#include <stdint.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

typedef struct {
  float sa, sb, sc, lo, hi, zc;
  int za, zb;
} AddParams;

static inline __attribute__((always_inline)) v128_t widen8(const uint8_t *p, int is_signed, int half) {
  const v128_t w = is_signed ? wasm_i16x8_load8x8((const int8_t *)p) : wasm_u16x8_load8x8(p);
  return half ? wasm_i32x4_extend_high_i16x8(w) : wasm_i32x4_extend_low_i16x8(w);
}

static inline __attribute__((always_inline)) v128_t dq4(v128_t q, int z, float s) {
  return wasm_f32x4_mul(wasm_f32x4_splat(s), wasm_f32x4_convert_i32x4(wasm_i32x4_sub(q, wasm_i32x4_splat(z))));
}

static inline __attribute__((always_inline)) v128_t finish4(const AddParams *p, v128_t va, v128_t vb) {
  v128_t v = wasm_f32x4_div(wasm_f32x4_add(va, vb), wasm_f32x4_splat(p->sc));
  // pmax/pmin (one maxps/minps each on x64; V8 lowers max/min to ~7 instructions for their NaN and
  // signed-zero rules): with v first, a NaN stays NaN and is masked below; the sign of a zero is
  // lost when zc is added
  v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, wasm_f32x4_splat(p->lo)), wasm_f32x4_splat(p->hi));
  const v128_t r = wasm_f32x4_add(v, wasm_f32x4_splat(p->zc));
  // r is within [lo, hi]: adding 1.5 * 2^23 rounds it half to even, and the sum's bits are the
  // integer + 0x4B400000 (nearest + trunc_sat, a long sequence in V8 on x64, in two operations);
  // NaN (a zero or infinite scale) gives 0, as trunc_sat does
  const v128_t q = wasm_i32x4_sub(wasm_f32x4_add(r, wasm_f32x4_splat(12582912.0f)), wasm_i32x4_splat(0x4B400000));
  return wasm_v128_and(q, wasm_f32x4_eq(r, r));
}

static inline int finish1(const AddParams *p, float va, float vb) {
  float v = (va + vb) / p->sc;
  v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
  return (int)__builtin_nearbyintf(v + p->zc);
}

static inline void store8(uint8_t *y, v128_t q0, v128_t q1) {
  const v128_t h = wasm_i16x8_narrow_i32x4(q0, q1);
  wasm_v128_store64_lane(y, wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), 0);
}

static inline int ld8(const uint8_t *p, int is_signed) {
  return is_signed ? (int)*(const int8_t *)p : (int)*p;
}

void KILN_EXPORT(kiln_qlinear_add)(int form, const uint8_t *a, const uint8_t *b, uint8_t *y, int outer, int mid, int inner, int is_signed, float sa, int za, float sb, int zb, float sc, int zc, int lo, int hi) {
  const AddParams p = { sa, sb, sc, (float)(lo - zc), (float)(hi - zc), (float)zc, za, zb };
  if (form == 0) {
    const long n = (long)outer * mid * inner;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
      const v128_t q0 = finish4(&p, dq4(widen8(a + i, is_signed, 0), za, sa), dq4(widen8(b + i, is_signed, 0), zb, sb));
      const v128_t q1 = finish4(&p, dq4(widen8(a + i, is_signed, 1), za, sa), dq4(widen8(b + i, is_signed, 1), zb, sb));
      store8(y + i, q0, q1);
    }
    for (; i < n; i++) y[i] = (uint8_t)finish1(&p, sa * (float)(ld8(a + i, is_signed) - za), sb * (float)(ld8(b + i, is_signed) - zb));
    return;
  }
  // form 1: a full, b one value per row; form 2: the other way round (addition commutes, but each
  // operand keeps its own scale and zero point)
  const uint8_t *full = form == 1 ? a : b, *row = form == 1 ? b : a;
  const float sf = form == 1 ? sa : sb, sr = form == 1 ? sb : sa;
  const int zf = form == 1 ? za : zb, zr = form == 1 ? zb : za;
  long i = 0;
  for (int o = 0; o < outer; o++) {
    for (int m = 0; m < mid; m++) {
      const float vr = sr * (float)(ld8(row + m, is_signed) - zr);
      const v128_t vr4 = wasm_f32x4_splat(vr);
      int j = 0;
      for (; j + 8 <= inner; j += 8, i += 8) {
        const v128_t f0 = dq4(widen8(full + i, is_signed, 0), zf, sf), f1 = dq4(widen8(full + i, is_signed, 1), zf, sf);
        // keep the reference's operand order (va + vb): float addition commutes exactly
        store8(y + i, finish4(&p, f0, vr4), finish4(&p, f1, vr4));
      }
      for (; j < inner; j++, i++) y[i] = (uint8_t)finish1(&p, sf * (float)(ld8(full + i, is_signed) - zf), vr);
    }
  }
}

void KILN_EXPORT(kiln_qdq_f32)(const float *x, float *y, int n, float s, int z, int lo, int hi) {
  const v128_t vs = wasm_f32x4_splat(s), vlo = wasm_f32x4_splat((float)(lo - z)), vhi = wasm_f32x4_splat((float)(hi - z));
  int i = 0;
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_f32x4_div(wasm_v128_load(x + i), vs);
    // clamp, then round: the bounds are integers, so this is round-then-saturate. pmax/pmin with v
    // first keep a NaN lane NaN (one instruction each on x64; max/min ~7, nearest and trunc_sat
    // longer); adding and subtracting 1.5 * 2^23 rounds |f| <= 2^22 half to even, exactly
    const v128_t f = wasm_f32x4_pmin(wasm_f32x4_pmax(v, vlo), vhi);
    const v128_t q = wasm_f32x4_sub(wasm_f32x4_add(f, magic), magic);
    // NaN lanes give 0 (the zero point), as QuantizeLinear gives it
    wasm_v128_store(y + i, wasm_v128_and(wasm_f32x4_mul(q, vs), wasm_f32x4_eq(v, v)));
  }
  for (; i < n; i++) {
    float f = __builtin_nearbyintf(x[i] / s);
    const int q = f != f ? 0 : f < (float)(lo - z) ? lo - z : f > (float)(hi - z) ? hi - z : (int)f;
    y[i] = (float)q * s;
  }
}
