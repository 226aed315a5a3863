// Scaled dot-product attention on f32 for the wasm backend (kernels/attention/wasm.ts): the same
// math as kernels/attention/core.ts attendFast, one query row at a time. Q, K and V are read in
// place through a layout per tensor (element (b, n, l, h) at base + b*sb + l*sl + n*sn + h, unit
// stride along the head dim), so [B, S, D], [B, N, S, H] and the packed QKV / KV forms need no
// gather; the output element (b, n, s, h) goes to b*osb + s*osl + n*osn + h ([B, S, N * Hv] for the
// contrib ops and 3-D ONNX Attention, [B, N, S, Hv] for 4-D). Query head n reads K/V head n / group.
//
// Per query row: scores[t] = scale * q . k_t (4 lanes along the head dim) into a scratch row, the
// row max, exp(x - max) through vmath.h's v_exp 4 keys at a time, then out = sum_t w_t v_t / sum
// (4 lanes along Hv, accumulated in the output row itself).
#include "vmath.h"

enum { D_B, D_N, D_S, D_T, D_H, D_HV, D_CAUSAL, D_GROUP, D_Q, D_K = D_Q + 4, D_V = D_K + 4, D_O = D_V + 4, D_WORDS = D_O + 3 };

INLINE float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

INLINE float dot(const float *a, const float *b, int n) {
  v128_t s0 = SPLAT(0.0f), s1 = s0;
  int h = 0;
  for (; h + 8 <= n; h += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + h), wasm_v128_load(b + h)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + h + 4), wasm_v128_load(b + h + 4)));
  }
  for (; h + 4 <= n; h += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + h), wasm_v128_load(b + h)));
  float r = hsum(wasm_f32x4_add(s0, s1));
  for (; h < n; h++) r += a[h] * b[h];
  return r;
}

/** The scores of 4 keys (rows k, k + ks, k + 2ks, k + 3ks) against q, n % 4 == 0: q loaded once per 4 keys. */
INLINE v128_t dot4(const float *q, const float *k, int ks, int n) {
  v128_t s0 = SPLAT(0.0f), s1 = s0, s2 = s0, s3 = s0;
  for (int h = 0; h < n; h += 4) {
    v128_t qv = wasm_v128_load(q + h);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(qv, wasm_v128_load(k + h)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(qv, wasm_v128_load(k + ks + h)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(qv, wasm_v128_load(k + 2 * ks + h)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(qv, wasm_v128_load(k + 3 * ks + h)));
  }
  // transpose-and-add: lane i of the result is the sum of s_i's lanes
  v128_t t0 = wasm_f32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
  v128_t t1 = wasm_f32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

/** out[h] += sum_i w[i] * v_i[h] over 4 rows v, v + vs, v + 2vs, v + 3vs: out loaded and stored once per 4 keys. */
INLINE void axpy4(float *out, const float *w, const float *v, int vs, int n) {
  v128_t w0 = SPLAT(w[0]), w1 = SPLAT(w[1]), w2 = SPLAT(w[2]), w3 = SPLAT(w[3]);
  int h = 0;
  for (; h + 4 <= n; h += 4) {
    v128_t a = wasm_f32x4_add(wasm_f32x4_mul(w0, wasm_v128_load(v + h)), wasm_f32x4_mul(w1, wasm_v128_load(v + vs + h)));
    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(w2, wasm_v128_load(v + 2 * vs + h)), wasm_f32x4_mul(w3, wasm_v128_load(v + 3 * vs + h)));
    wasm_v128_store(out + h, wasm_f32x4_add(wasm_v128_load(out + h), wasm_f32x4_add(a, b)));
  }
  for (; h < n; h++) out[h] += (w[0] * v[h] + w[1] * v[vs + h]) + (w[2] * v[2 * vs + h] + w[3] * v[3 * vs + h]);
}

/** out[h] += w * v[h] for h < n */
INLINE void axpy(float *out, float w, const float *v, int n) {
  v128_t wv = SPLAT(w);
  int h = 0;
  for (; h + 4 <= n; h += 4) wasm_v128_store(out + h, wasm_f32x4_add(wasm_v128_load(out + h), wasm_f32x4_mul(wv, wasm_v128_load(v + h))));
  for (; h < n; h++) out[h] += w * v[h];
}

/**
 * desc (i32): B, N, S, T, H, Hv, causal (1: query s sees keys t <= s, the rest dropped, which is
 * exact where the caller checked the masked weights are 0), group (query heads per K/V head), then
 * base, sb, sl, sn for Q, K and V, then osb, osl, osn for the output. scores: T floats of scratch.
 * Returns -1 on a bad descriptor.
 */
int KILN_EXPORT(kiln_attention_f32)(const float *q, const float *k, const float *v, float *out, float *scores, const int *desc, float scale) {
  int B = desc[D_B], N = desc[D_N], S = desc[D_S], T = desc[D_T], H = desc[D_H], Hv = desc[D_HV], causal = desc[D_CAUSAL], group = desc[D_GROUP];
  if (B < 0 || N < 1 || S < 0 || T < 0 || H < 1 || Hv < 1 || group < 1) return -1;
  const int *ql = desc + D_Q, *kl = desc + D_K, *vl = desc + D_V, *ol = desc + D_O;
  for (int b = 0; b < B; b++) {
    for (int n = 0; n < N; n++) {
      int kv = n / group;
      const float *kh = k + kl[0] + b * kl[1] + kv * kl[3];
      const float *vh = v + vl[0] + b * vl[1] + kv * vl[3];
      for (int s = 0; s < S; s++) {
        const float *qr = q + ql[0] + b * ql[1] + s * ql[2] + n * ql[3];
        float *o = out + b * ol[0] + s * ol[1] + n * ol[2];
        for (int h = 0; h < Hv; h++) o[h] = 0.0f;
        int hi = causal && s + 1 < T ? s + 1 : T;
        if (hi <= 0) continue;
        float max = -__builtin_inff();
        int t0 = 0;
        if ((H & 3) == 0) {
          v128_t sc = SPLAT(scale), mx = SPLAT(-__builtin_inff());
          for (; t0 + 4 <= hi; t0 += 4) {
            v128_t x = wasm_f32x4_mul(dot4(qr, kh + t0 * kl[2], kl[2], H), sc);
            wasm_v128_store(scores + t0, x);
            mx = wasm_f32x4_max(mx, x);
          }
          float l0 = wasm_f32x4_extract_lane(mx, 0), l1 = wasm_f32x4_extract_lane(mx, 1), l2 = wasm_f32x4_extract_lane(mx, 2), l3 = wasm_f32x4_extract_lane(mx, 3);
          max = l0 > l1 ? l0 : l1;
          max = l2 > max ? l2 : max;
          max = l3 > max ? l3 : max;
        }
        for (int t = t0; t < hi; t++) {
          float x = dot(qr, kh + t * kl[2], H) * scale;
          scores[t] = x;
          max = x > max ? x : max;
        }
        // every score -inf (or NaN): attendFast's `max === -Infinity` row of zeros, or NaN through
        if (max == -__builtin_inff()) continue;
        v128_t mv = SPLAT(max), sv = SPLAT(0.0f);
        int t = 0;
        for (; t + 4 <= hi; t += 4) {
          v128_t e = v_exp(wasm_f32x4_sub(wasm_v128_load(scores + t), mv));
          wasm_v128_store(scores + t, e);
          sv = wasm_f32x4_add(sv, e);
        }
        float sum = hsum(sv);
        for (; t < hi; t++) {
          float e = wasm_f32x4_extract_lane(v_exp(SPLAT(scores[t] - max)), 0);
          scores[t] = e;
          sum += e;
        }
        for (t = 0; t + 4 <= hi; t += 4) axpy4(o, scores + t, vh + t * vl[2], vl[2], Hv);
        for (; t < hi; t++) {
          float w = scores[t];
          if (w != 0.0f) axpy(o, w, vh + t * vl[2], Hv);
        }
        v128_t inv = SPLAT(1.0f / sum);
        int h = 0;
        for (; h + 4 <= Hv; h += 4) wasm_v128_store(o + h, wasm_f32x4_mul(wasm_v128_load(o + h), inv));
        for (; h < Hv; h++) o[h] *= wasm_f32x4_extract_lane(inv, 0);
      }
    }
  }
  return 0;
}
