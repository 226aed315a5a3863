// Scaled dot-product attention on f32 for the wasm backend (kernels/attention/wasm.ts): the same
// math as kernels/attention/core.ts attendFast, one query row at a time. Q, K and V are read in
// place through a layout per tensor (element (b, n, l, h) at base + b*sb + l*sl + n*sn + h, unit
// stride along the head dim), so [B, S, D], [B, N, S, H] and the packed QKV / KV forms need no
// gather; the output element (b, n, s, h) goes to b*osb + s*osl + n*osn + h ([B, S, N * Hv] for the
// contrib ops and 3-D ONNX Attention, [B, N, S, Hv] for 4-D). Query head n reads K/V head n / group.
//
// Per query row: scores[t] = scale * q . k_t (4 lanes along the head dim) into a scratch row, the
// row max, exp(x - max) 4 keys at a time (v_exp_nonpositive: no denormal range), then out = sum_t w_t v_t / sum
// (4 lanes along Hv, accumulated in the output row itself).
//
// The general form (issue 13): a key window per query row [lo, hi) from a past length per batch
// (`lens`: causal windows end at lens[b] + s + 1; GroupQueryAttention's local window starts
// local_window_size before), an additive term per score (a contrib key padding mask as
// mask_filter_value, onnxruntime's causal mask as mask_filter_value, attention_bias with broadcast
// strides), softcap before or after it, and a sink logit per head (smooth softmax / head_sink).
// kiln_attention_gather_f32 writes present_key / present_value (past rows, then the new rows plus
// bias or rotated, zeros after) in one pass; the attention then reads them as [B, heads, Tbuf, hd].
// When present is the past's own bytes (a carried cache, GroupQueryAttention's writesOver) only the
// new rows are written: the past rows are already there and the rows after keep what they hold.
// With an additive term only (an exported causal -1e9 mask), keys whose bias alone rules out any
// weight are never scored (trim_keys): such a mask costs what a causal window costs.
#include "vmath.h"

enum {
  D_B, D_N, D_S, D_T, D_H, D_HV, D_CAUSAL, D_GROUP, D_Q, D_K = D_Q + 4, D_V = D_K + 4, D_O = D_V + 4,
  /** local window (keys before hi - 1 - window leave the softmax); -1: none */
  D_WINDOW = D_O + 3,
  /** contrib mask kind: 0 none, 1 [B] ends, 2 [2B] ends and starts, 3 [B, T], 4 [B, S, T] */
  D_MASK,
  /** 1: keys t > lens[b] + s get mask_filter_value added (onnxruntime's causal mask, S > 1) */
  D_CAUSAL_ADD,
  /** 1: attention_bias read at b * sb + n * sn + s * ss + t */
  D_BIAS, D_BIAS_SB, D_BIAS_SN, D_BIAS_SS,
  /** 1: softcap before the additive term (GroupQueryAttention), 0 after (ONNX Attention) */
  D_SOFTCAP_FIRST,
  /** 0: no sink, 1: a sink logit of 0 per head (smooth softmax), 2: sink[n] */
  D_SINK,
  /** 1: lens holds a past length per batch, 0: all 0 */
  D_LENS,
  D_WORDS
};

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


INLINE float exp_weight1(float x) { return wasm_f32x4_extract_lane(v_exp_nonpositive(SPLAT(x)), 0); }

/** The largest |k_t| over T rows of H floats, ks apart. */
static float max_norm(const float *k, int ks, int T, int H) {
  float m = 0.0f;
  for (int t = 0; t < T; t++) {
    float x = dot(k + t * ks, k + t * ks, H);
    m = x > m || x != x ? x : m;
  }
  return __builtin_sqrtf(m);
}

/**
 * With an additive term only: keys at either end of [lo, hi) whose bias lies so far below another
 * key's that their weight is exactly 0 whatever their score are never scored (the future keys of a
 * causal -1e9 or -inf mask). |scale q . k_t| <= u (Cauchy-Schwarz with kmax = max |k_t|, 1e-3 over
 * for the f32 sums), so the row max is >= b_r - u for any key r (here the largest bias of the first,
 * middle and last keys, which no cut removes), and a key with b_t < b_r - 2u - 90 weighs < e^-90:
 * 0 in v_exp_nonpositive, < 1e-39 in the reference. NaN or inf bounds cut nothing.
 */
static __attribute__((noinline)) void trim_keys(const float *bb, const float *q, int H, float scale, float kmax, int *plo, int *phi) {
  int lo = *plo, hi = *phi;
  float u = 1.001f * (scale < 0.0f ? -scale : scale) * __builtin_sqrtf(dot(q, q, H)) * kmax;
  float br = bb[lo] > bb[hi - 1] ? bb[lo] : bb[hi - 1];
  br = bb[(lo + hi) / 2] > br ? bb[(lo + hi) / 2] : br;
  float cut = br - 2.0f * u - 90.0f;
  v128_t cv = SPLAT(cut);
  while (hi - lo >= 4 && wasm_i32x4_all_true(wasm_f32x4_lt(wasm_v128_load(bb + hi - 4), cv))) hi -= 4;
  while (hi > lo && bb[hi - 1] < cut) hi--;
  while (hi - lo >= 4 && wasm_i32x4_all_true(wasm_f32x4_lt(wasm_v128_load(bb + lo), cv))) lo += 4;
  while (lo < hi && bb[lo] < cut) lo++;
  *plo = lo, *phi = hi;
}

INLINE float tanh1(float x) { return wasm_f32x4_extract_lane(v_tanh(SPLAT(x)), 0); }

INLINE int key_visible(int kind, const int *mask, int B, int S, int T, int b, int s, int t) {
  switch (kind) {
    case 1: return t < mask[b];
    case 2: { int start = mask[b + B] < T ? mask[b + B] : T; return t < mask[b] && t >= start; }
    case 3: return mask[b * T + t] > 0;
    case 4: return mask[(b * S + s) * T + t] > 0;
    default: return 1;
  }
}

/**
 * desc (i32, D_WORDS): B, N, S, T, H, Hv, causal (1: query s of batch b sees keys t < lens[b] + s + 1,
 * the rest dropped), group (query heads per K/V head), base, sb, sl, sn for Q, K and V, osb, osl,
 * osn for the output, then the general form's fields (the enum above). scores: T floats of scratch.
 * Rows row0 <= r < row1 of the flattened (b, n, s) are computed (a thread's share).
 * Returns -1 on a bad descriptor.
 */
int KILN_EXPORT(kiln_attention_f32)(const float *q, const float *k, const float *v, float *out, float *scores, const int *desc, float scale, float softcap, float filter,
                                    const int *lens, const int *mask, const float *bias, const float *sink, int row0, int row1) {
  int B = desc[D_B], N = desc[D_N], S = desc[D_S], T = desc[D_T], H = desc[D_H], Hv = desc[D_HV], causal = desc[D_CAUSAL], group = desc[D_GROUP];
  if (B < 0 || N < 1 || S < 0 || T < 0 || H < 1 || Hv < 1 || group < 1) return -1;
  const int *ql = desc + D_Q, *kl = desc + D_K, *vl = desc + D_V, *ol = desc + D_O;
  int window = desc[D_WINDOW], maskKind = desc[D_MASK], causalAdd = desc[D_CAUSAL_ADD], hasBias = desc[D_BIAS], sinkKind = desc[D_SINK], hasLens = desc[D_LENS];
  int softcapFirst = desc[D_SOFTCAP_FIRST];
  int extras = maskKind != 0 || causalAdd || hasBias || softcap > 0.0f;
  int trim = hasBias && !(maskKind != 0 || causalAdd || softcap > 0.0f), normOf = -1;
  float kmax = 0.0f;
  if (row0 < 0) row0 = 0;
  if (row1 > B * N * S) row1 = B * N * S;
  for (int r = row0; r < row1; r++) {
    int s = r % S, n = (r / S) % N, b = r / (S * N);
    int kv = n / group;
    int past = hasLens ? lens[b] : 0;
    const float *kh = k + kl[0] + b * kl[1] + kv * kl[3];
    const float *vh = v + vl[0] + b * vl[1] + kv * vl[3];
    const float *qr = q + ql[0] + b * ql[1] + s * ql[2] + n * ql[3];
    float *o = out + b * ol[0] + s * ol[1] + n * ol[2];
    for (int h = 0; h < Hv; h++) o[h] = 0.0f;
    int hi = causal && past + s + 1 < T ? past + s + 1 : T;
    int lo = window >= 0 && hi > window + 1 ? hi - window - 1 : 0;
    const float *bb = hasBias ? bias + b * desc[D_BIAS_SB] + n * desc[D_BIAS_SN] + s * desc[D_BIAS_SS] : 0;
    if (trim && hi > lo) {
      if (b * N + kv != normOf) normOf = b * N + kv, kmax = max_norm(kh, kl[2], T, H);
      trim_keys(bb, qr, H, scale, kmax, &lo, &hi);
    }
    if (hi <= lo) continue;
    int len = hi - lo;
    const float *k0 = kh + lo * kl[2], *v0 = vh + lo * vl[2];
    // an additive term only (attention_bias, an ONNX float attn_mask) joins the scores as they are made
    const float *brow = hasBias ? bb + lo : 0;
    float max = -__builtin_inff();
    int t0 = 0;
    if ((H & 3) == 0) {
      v128_t sc = SPLAT(scale), mx = SPLAT(-__builtin_inff());
      for (; t0 + 4 <= len; t0 += 4) {
        v128_t x = wasm_f32x4_mul(dot4(qr, k0 + t0 * kl[2], kl[2], H), sc);
        if (trim) x = wasm_f32x4_add(x, wasm_v128_load(brow + t0));
        wasm_v128_store(scores + t0, x);
        mx = wasm_f32x4_pmax(mx, x);
      }
      float l0 = wasm_f32x4_extract_lane(mx, 0), l1 = wasm_f32x4_extract_lane(mx, 1), l2 = wasm_f32x4_extract_lane(mx, 2), l3 = wasm_f32x4_extract_lane(mx, 3);
      max = l0 > l1 ? l0 : l1;
      max = l2 > max ? l2 : max;
      max = l3 > max ? l3 : max;
    }
    for (int t = t0; t < len; t++) {
      float x = dot(qr, k0 + t * kl[2], H) * scale + (trim ? brow[t] : 0.0f);
      scores[t] = x;
      max = x > max ? x : max;
    }
    if (extras && !trim) {
      // softcap, masks and bias, in attendFast's order; the row max again
      max = -__builtin_inff();
      for (int i = 0; i < len; i++) {
        int t = lo + i;
        float x = scores[i];
        if (softcap > 0.0f && softcapFirst) x = softcap * tanh1(x / softcap);
        if ((causalAdd && t > past + s) || !key_visible(maskKind, mask, B, S, T, b, s, t)) x += filter;
        if (hasBias) x += brow[i];
        if (softcap > 0.0f && !softcapFirst && x != -__builtin_inff()) x = softcap * tanh1(x / softcap);
        scores[i] = x;
        max = x > max ? x : max;
      }
    }
    float sinkLogit = sinkKind == 2 ? sink[n] : 0.0f;
    if (sinkKind && sinkLogit > max) max = sinkLogit;
    // every score -inf (or NaN): attendFast's `max === -Infinity` row of zeros, or NaN through
    if (max == -__builtin_inff()) continue;
    v128_t mv = SPLAT(max), sv = SPLAT(0.0f);
    int t = 0;
    for (; t + 4 <= len; t += 4) {
      v128_t e = v_exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(scores + t), mv));
      wasm_v128_store(scores + t, e);
      sv = wasm_f32x4_add(sv, e);
    }
    float sum = hsum(sv);
    for (; t < len; t++) {
      float e = exp_weight1(scores[t] - max);
      scores[t] = e;
      sum += e;
    }
    if (sinkKind) sum += exp_weight1(sinkLogit - max);
    // 4 keys whose weights are all exactly 0 (masked, or far below the max) add nothing: skipped,
    // as attendFast skips single zero weights
    for (t = 0; t + 4 <= len; t += 4) {
      if (wasm_v128_any_true(wasm_v128_load(scores + t))) axpy4(o, scores + t, v0 + t * vl[2], vl[2], Hv);
    }
    for (; t < len; t++) {
      float w = scores[t];
      if (w != 0.0f) axpy(o, w, v0 + t * vl[2], Hv);
    }
    v128_t inv = SPLAT(1.0f / sum);
    int h = 0;
    for (; h + 4 <= Hv; h += 4) wasm_v128_store(o + h, wasm_f32x4_mul(wasm_v128_load(o + h), inv));
    for (; h < Hv; h++) o[h] *= wasm_f32x4_extract_lane(inv, 0);
  }
  return 0;
}

enum { G_B, G_HEADS, G_L, G_HD, G_TBUF, G_PBUF, G_SRC, G_HAS_PAST = G_SRC + 4, G_HAS_BIAS, G_ROT_HALF, G_ROT_INTERLEAVED, G_MAX_POS, G_HAS_LENS, G_WORDS };

/**
 * dst [B, heads, Tbuf, hd]: per (b, head) rows t < P = lens[b] from past ([B, heads, Pbuf, hd]) when
 * hasPast, then rows from src (element (b, n, l, h) at base + b*sb + l*sl + n*sn + h, l < L, while
 * < Tbuf) plus bias[n * hd + h], rotated at position P + l when rotHalf > 0 (cos/sin [maxPos,
 * rotHalf], RotaryEmbedding's math: halves, or interleaved pairs), zeros after. Without hasLens P
 * is 0; a query gathered without its past (hasPast 0) still rotates at P + l. In place (dst == past,
 * Pbuf == Tbuf): the new rows only (rows t >= P, never read as past); dst == past with another
 * buffer length is refused.
 * Returns -1 on a bad descriptor, -2 when a position falls outside the rotary cache.
 */
int KILN_EXPORT(kiln_attention_gather_f32)(const float *src, const float *past, const float *bias, const int *lens, const float *cosc, const float *sinc, float *dst, const int *desc) {
  int B = desc[G_B], heads = desc[G_HEADS], L = desc[G_L], hd = desc[G_HD], Tbuf = desc[G_TBUF], Pbuf = desc[G_PBUF];
  const int *sl = desc + G_SRC;
  int hasPast = desc[G_HAS_PAST], hasBias = desc[G_HAS_BIAS], half = desc[G_ROT_HALF], inter = desc[G_ROT_INTERLEAVED], maxPos = desc[G_MAX_POS], hasLens = desc[G_HAS_LENS];
  if (B < 0 || heads < 1 || L < 0 || hd < 1 || Tbuf < 0 || Pbuf < 0 || half < 0 || 2 * half > hd) return -1;
  int inPlace = hasPast && past == dst;
  if (inPlace && Pbuf != Tbuf) return -1;
  for (int b = 0; b < B; b++) {
    int P = hasLens ? lens[b] : 0;
    if (P < 0 || (hasPast && (P > Pbuf || P > Tbuf))) return -1;
    for (int n = 0; n < heads; n++) {
      float *d = dst + (long)(b * heads + n) * Tbuf * hd;
      if (hasPast && !inPlace) {
        const float *p = past + (long)(b * heads + n) * Pbuf * hd;
        for (int i = 0; i < P * hd; i++) d[i] = p[i];
      }
      int t = hasPast ? P : 0;
      for (int l = 0; l < L && t < Tbuf; l++, t++) {
        const float *x = src + sl[0] + b * sl[1] + l * sl[2] + n * sl[3];
        float *y = d + t * hd;
        const float *bb = bias + n * hd;
        int h = 0;
        if (hasBias) {
          for (; h + 4 <= hd; h += 4) wasm_v128_store(y + h, wasm_f32x4_add(wasm_v128_load(x + h), wasm_v128_load(bb + h)));
          for (; h < hd; h++) y[h] = x[h] + bb[h];
        } else {
          for (; h + 4 <= hd; h += 4) wasm_v128_store(y + h, wasm_v128_load(x + h));
          for (; h < hd; h++) y[h] = x[h];
        }
        if (half > 0) {
          int pos = P + l;
          if (pos >= maxPos) return -2;
          const float *c = cosc + pos * half, *sn = sinc + pos * half;
          for (int i = 0; i < half; i++) {
            int a = inter ? 2 * i : i, e = inter ? 2 * i + 1 : i + half;
            float x1 = y[a], x2 = y[e];
            y[a] = x1 * c[i] - x2 * sn[i];
            y[e] = x2 * c[i] + x1 * sn[i];
          }
        }
      }
      if (!inPlace) for (int i = t * hd; i < Tbuf * hd; i++) d[i] = 0.0f;
    }
  }
  return 0;
}
