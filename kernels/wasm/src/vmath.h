// Vector (f32x4) forms of the elementwise table's transcendentals (kernels/elementwise-unary/
// unary-math.ts), shared by the memory-bound kernels. Sigmoid and tanh follow the table's formula
// (same branches); exp, log and erf are approximations of their own:
//   v_exp: Cephes expf (range reduction by ln2 in two parts, degree-6 polynomial on |r| <= ln2/2),
//          2^n applied as two exact power-of-two factors so denormal results and x up to
//          88.72 (FLT_MAX) come out right. Relative error <= 2e-7 for normal results (Cephes'
//          stated bound for expf); 0 below -103.97, +inf above 88.7228, NaN passes.
//   v_exp_nonpositive: the same for softmax weights (x <= 0), 0 below -87 instead of denormals.
//   Both through VMADD: fused multiply-adds in the relaxed-SIMD build (BERT's Gelu steps 163 ->
//   132 us), the plain build's mul + add exactly as before.
//   s_log: Cephes logf on [sqrt(1/2), sqrt(2)), relative error <= 2e-7; only used on a row's sum
//          (>= 1) in LogSoftmax.
//   v_erf, v_erfc (Erf, Gelu): onnxruntime's MLAS erf (after N. Juffa's faithfully rounded erff):
//          x + x p(x^2) up to |x| = 0.9277, 1 - e^r(|x|) above, no division; erf's relative error
//          2.1e-8 in exact arithmetic, and e^r as erfc (Gelu's negative half) within 6.4e-5
//          relative up to |x| = 3.9 (erfc 3.4e-8), smaller than the true erfc beyond (decision
//          gelu-erf). BERT's two FFN Gelu steps ([64, 512] each, Node, 1 thread): 244 -> 158 us
//          against the table's erfc (a division and two polynomials on every lane).
#ifndef KILN_VMATH_H
#define KILN_VMATH_H
#include <wasm_simd128.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name
#define INLINE static inline __attribute__((always_inline))
#define SPLAT(c) wasm_f32x4_splat(c)

// a * b + c: one fused multiply-add where the engine has relaxed SIMD (the polynomials below)
#ifdef KILN_RELAXED
#define VMADD(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define VMADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

/**
 * Cephes expf's core on xc (already clamped to where the caller's scaling is exact): returns the
 * polynomial value y = e^r, r = xc - n ln2 with |r| <= ln2/2, and sets *t = xc log2(e) + 1.5 * 2^23,
 * whose low mantissa bits hold n = round(xc / ln2), so e^xc = y * 2^n.
 */
INLINE v128_t v_exp_core(v128_t xc, v128_t *t) {
  // round to nearest by adding 1.5 * 2^23: n's integer sits in t's low mantissa bits (cheaper in
  // V8 than f32x4.nearest + i32x4.trunc_sat, which lower to several x64 instructions each)
  const v128_t magic = SPLAT(12582912.0f);
  *t = VMADD(xc, SPLAT(1.44269504088896341f), magic);
  v128_t n = wasm_f32x4_sub(*t, magic);
  v128_t r = VMADD(n, SPLAT(-0.693359375f), xc);
  r = VMADD(n, SPLAT(2.12194440e-4f), r);
  v128_t p = SPLAT(1.9875691500e-4f);
  p = VMADD(p, r, SPLAT(1.3981999507e-3f));
  p = VMADD(p, r, SPLAT(8.3334519073e-3f));
  p = VMADD(p, r, SPLAT(4.1665795894e-2f));
  p = VMADD(p, r, SPLAT(1.6666665459e-1f));
  p = VMADD(p, r, SPLAT(5.0000001201e-1f));
  return wasm_f32x4_add(VMADD(wasm_f32x4_mul(p, r), r, r), SPLAT(1.0f));
}

INLINE v128_t v_exp(v128_t x) {
  const v128_t hi = SPLAT(88.72283935546875f), lo = SPLAT(-103.97208f), magic = SPLAT(12582912.0f);
  v128_t over = wasm_f32x4_gt(x, hi), under = wasm_f32x4_lt(x, lo);
  v128_t t;
  v128_t y = v_exp_core(wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi), &t); // NaN stays NaN
  // n in [-150, 128]: split in two halves, each a normal power of two
  v128_t ni = wasm_i32x4_sub(t, magic);
  v128_t n1 = wasm_i32x4_shr(ni, 1), n2 = wasm_i32x4_sub(ni, n1);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, wasm_i32x4_splat(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, wasm_i32x4_splat(127)), 23);
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, s1), s2);
  y = wasm_v128_bitselect(SPLAT(__builtin_inff()), y, over);
  return wasm_v128_andnot(y, under);
}

/**
 * e^x for x <= 0 (a softmax weight: x - the row max): v_exp's core with one power-of-two factor and
 * no denormal range: below -87 (e^x < 2^-125, nothing next to the row's weight of 1) the weight is
 * 0. v_exp would form those results (and the 0 of a -1e9 masked key) through denormal products,
 * which on x86 cost a microcode assist each: 4x the attention kernel's time under a causal -1e9
 * mask. Equal to v_exp's bits wherever e^x >= 2^-125 (both scale exactly by powers of two). NaN passes.
 */
INLINE v128_t v_exp_nonpositive(v128_t x) {
  const v128_t lo = SPLAT(-87.0f), magic = SPLAT(12582912.0f);
  v128_t under = wasm_f32x4_lt(x, lo);
  v128_t t;
  v128_t y = v_exp_core(wasm_f32x4_pmax(x, lo), &t);
  // n in [-126, 0]: 2^n is a normal float, and so is y * 2^n >= e^-87
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(t, magic), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(y, scale), under);
}

/** 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: the table's sigmoid. */
INLINE v128_t v_sigmoid(v128_t x) {
  v128_t e = v_exp(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  v128_t d = wasm_f32x4_add(SPLAT(1.0f), e);
  v128_t pos = wasm_f32x4_ge(x, SPLAT(0.0f));
  return wasm_f32x4_div(wasm_v128_bitselect(SPLAT(1.0f), e, pos), d);
}

/** tanh: an odd series below |x| < 0.1 (no 1 - t cancellation), (1 - t) / (1 + t), t = e^-2|x|, above. */
INLINE v128_t v_tanh(v128_t x) {
  v128_t a = wasm_f32x4_abs(x);
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t s = wasm_f32x4_add(SPLAT(0.133333333f), wasm_f32x4_mul(x2, SPLAT(-0.053968254f)));
  s = wasm_f32x4_add(SPLAT(-0.333333333f), wasm_f32x4_mul(x2, s));
  s = wasm_f32x4_mul(x, wasm_f32x4_add(SPLAT(1.0f), wasm_f32x4_mul(x2, s)));
  v128_t t = v_exp(wasm_f32x4_mul(a, SPLAT(-2.0f)));
  v128_t l = wasm_f32x4_div(wasm_f32x4_sub(SPLAT(1.0f), t), wasm_f32x4_add(SPLAT(1.0f), t));
  l = wasm_v128_or(l, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000))); // sign of x
  return wasm_v128_bitselect(s, l, wasm_f32x4_lt(a, SPLAT(0.1f)));
}

/** erf and erfc take the small form at |x| <= this, e^r(|x|) as erfc above. */
#define ERF_SPLIT 0.927734375f

/** erf(x) = x + x p(x^2) for |x| <= ERF_SPLIT. */
INLINE v128_t v_erf_small(v128_t x) {
  v128_t s = wasm_f32x4_mul(x, x);
  v128_t r = SPLAT(-5.96761703e-4f);
  r = VMADD(r, s, SPLAT(4.99119423e-3f));
  r = VMADD(r, s, SPLAT(-2.67681349e-2f));
  r = VMADD(r, s, SPLAT(1.12819925e-1f));
  r = VMADD(r, s, SPLAT(-3.76125336e-1f));
  r = VMADD(r, s, SPLAT(1.28379166e-1f));
  return VMADD(r, x, x);
}

/**
 * erfc(t) = e^r(t) for t > ERF_SPLIT, r a degree-7 polynomial (r <= 0 for every t >= 0, so the
 * softmax exp serves: 0 below e^-87, t > ~9, where erfc is under 1.2e-38 anyway). NaN passes.
 */
INLINE v128_t v_erfc_big(v128_t t) {
  v128_t s = wasm_f32x4_mul(t, t);
  v128_t r = VMADD(SPLAT(-1.72853470e-5f), t, SPLAT(3.83197126e-4f));
  v128_t u = VMADD(SPLAT(-3.88396438e-3f), t, SPLAT(2.42546219e-2f));
  r = VMADD(r, s, u);
  r = VMADD(r, t, SPLAT(-1.06777877e-1f));
  r = VMADD(r, t, SPLAT(-6.34846687e-1f));
  r = VMADD(r, t, SPLAT(-1.28717512e-1f));
  r = VMADD(r, t, wasm_f32x4_neg(t));
  return v_exp_nonpositive(r);
}

INLINE v128_t v_erf(v128_t x) {
  v128_t a = wasm_f32x4_abs(x);
  v128_t big = wasm_f32x4_sub(SPLAT(1.0f), v_erfc_big(a));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000))); // sign of x
  return wasm_v128_bitselect(v_erf_small(x), big, wasm_f32x4_le(a, SPLAT(ERF_SPLIT)));
}

INLINE v128_t v_erfc(v128_t x) {
  v128_t c = v_erfc_big(wasm_f32x4_abs(x));
  v128_t big = wasm_v128_bitselect(c, wasm_f32x4_sub(SPLAT(2.0f), c), wasm_f32x4_gt(x, SPLAT(0.0f)));
  return wasm_v128_bitselect(wasm_f32x4_sub(SPLAT(1.0f), v_erf_small(x)), big, wasm_f32x4_le(wasm_f32x4_abs(x), SPLAT(ERF_SPLIT)));
}

/**
 * Cephes logf on vectors (the same reduction and polynomial as s_log below), with denormals scaled
 * up by 2^25 first; 0 -> -inf, negative -> NaN, +inf and NaN pass. Relative error <= 2e-7 away from
 * x = 1, where the m + y form keeps it relative too.
 */
INLINE v128_t v_log(v128_t x) {
  v128_t tiny = wasm_f32x4_lt(x, SPLAT(1.17549435e-38f));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, SPLAT(33554432.0f)), x, tiny);
  v128_t e = wasm_i32x4_sub(wasm_v128_and(wasm_u32x4_shr(xs, 23), wasm_i32x4_splat(0xff)), wasm_i32x4_splat(126));
  e = wasm_i32x4_sub(e, wasm_v128_and(tiny, wasm_i32x4_splat(25)));
  v128_t m = wasm_v128_or(wasm_v128_and(xs, wasm_i32x4_splat((int)0x807fffff)), wasm_i32x4_splat(0x3f000000)); // [0.5, 1)
  v128_t small = wasm_f32x4_lt(m, SPLAT(0.707106781186547524f));
  e = wasm_i32x4_add(e, small); // small is -1 (all bits) where true
  m = wasm_f32x4_sub(wasm_v128_bitselect(wasm_f32x4_add(m, m), m, small), SPLAT(1.0f));
  v128_t z = wasm_f32x4_mul(m, m);
  v128_t y = SPLAT(7.0376836292e-2f);
  y = wasm_f32x4_sub(wasm_f32x4_mul(y, m), SPLAT(1.1514610310e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, m), SPLAT(1.1676998740e-1f));
  y = wasm_f32x4_sub(wasm_f32x4_mul(y, m), SPLAT(1.2420140846e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, m), SPLAT(1.4249322787e-1f));
  y = wasm_f32x4_sub(wasm_f32x4_mul(y, m), SPLAT(1.6668057665e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, m), SPLAT(2.0000714765e-1f));
  y = wasm_f32x4_sub(wasm_f32x4_mul(y, m), SPLAT(2.4999993993e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, m), SPLAT(3.3333331174e-1f));
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, m), z);
  v128_t fe = wasm_f32x4_convert_i32x4(e);
  y = wasm_f32x4_add(y, wasm_f32x4_mul(SPLAT(-2.12194440e-4f), fe));
  y = wasm_f32x4_add(y, wasm_f32x4_mul(SPLAT(-0.5f), z));
  v128_t r = wasm_f32x4_add(wasm_f32x4_add(m, y), wasm_f32x4_mul(SPLAT(0.693359375f), fe));
  r = wasm_v128_bitselect(SPLAT(-__builtin_inff()), r, wasm_f32x4_eq(x, SPLAT(0.0f)));
  r = wasm_v128_bitselect(SPLAT(__builtin_nanf("")), r, wasm_f32x4_lt(x, SPLAT(0.0f)));
  // +inf and NaN pass through (x != x, or x == inf)
  v128_t pass = wasm_v128_or(wasm_f32x4_ne(x, x), wasm_f32x4_eq(x, SPLAT(__builtin_inff())));
  return wasm_v128_bitselect(x, r, pass);
}

/** Normal x only (denormals are not reduced): a softmax row sum is >= 1. */
INLINE float s_log(float x) {
  if (x != x || x == __builtin_inff()) return x;
  if (x == 0.0f) return -__builtin_inff();
  if (x < 0.0f) return __builtin_nanf("");
  unsigned bits = __builtin_bit_cast(unsigned, x);
  int e = (int)((bits >> 23) & 0xff) - 126;
  float m = __builtin_bit_cast(float, (bits & 0x807fffffu) | 0x3f000000u); // [0.5, 1)
  if (m < 0.707106781186547524f) {
    e -= 1;
    m = m + m - 1.0f;
  } else {
    m = m - 1.0f;
  }
  float z = m * m;
  float y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m + 1.1676998740e-1f) * m - 1.2420140846e-1f) * m + 1.4249322787e-1f) * m - 1.6668057665e-1f) * m + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m + 3.3333331174e-1f) * m * z;
  float fe = (float)e;
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return m + y + 0.693359375f * fe;
}

#endif
