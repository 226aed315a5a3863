// The opset-27 recurrent ops on f32 for the wasm backend (kernels/linear-attention/wasm.ts,
// kernels/causal-conv-with-state/wasm.ts). Both are row-parallel (kernels/wasm/contract.ts
// ROW_PARALLEL_EXPORTS) over units that share nothing: a (batch, KV head) state for LinearAttention,
// a (batch, channel) row for CausalConvWithState.
#include "vmath.h"

/**
 * n (1 or 4) floats at p. Callers pass a constant: tails go a lane at a time (n = 1), which keeps
 * one small copy of each loop for them instead of a branch per lane (the module's size budget).
 */
INLINE v128_t load_n(const float *p, int n) {
  return n == 4 ? wasm_v128_load(p) : wasm_v128_load32_zero(p);
}

INLINE void store_n(float *p, v128_t x, int n) {
  if (n == 4) wasm_v128_store(p, x);
  else wasm_v128_store32_lane(p, x, 0);
}

/**
 * One block of n state columns of a KV head over one step (columns are independent: column j is
 * touched only by v[j] and the outputs' j-th values). g[i] is exp(decay) per state row (1 for the
 * ungated rules), gk[i] = g[i] * k[i]. delta: the written value is beta (v - (gS)^T k), read in a
 * first pass over the rows; then S = gS + k w^T and the first query head's output in the same pass,
 * the group's other query heads in one read pass each.
 */
INLINE void la_columns(float *s, const float *k, const float *v, const float *g, const float *gk, const float *q, float *o, int delta, float beta,
                       int group, int dk, int dv, float scale, int n) {
  v128_t w = load_n(v, n);
  // two sums (even and odd rows): the adds' latency, not their count, bounds these loops
  if (delta) {
    v128_t r = SPLAT(0.0f), r1 = r;
    int i = 0;
    for (; i + 2 <= dk; i += 2) {
      r = wasm_f32x4_add(r, wasm_f32x4_mul(load_n(s + i * dv, n), SPLAT(gk[i])));
      r1 = wasm_f32x4_add(r1, wasm_f32x4_mul(load_n(s + (i + 1) * dv, n), SPLAT(gk[i + 1])));
    }
    if (i < dk) r = wasm_f32x4_add(r, wasm_f32x4_mul(load_n(s + i * dv, n), SPLAT(gk[i])));
    w = wasm_f32x4_mul(SPLAT(beta), wasm_f32x4_sub(w, wasm_f32x4_add(r, r1)));
  }
  v128_t acc = SPLAT(0.0f), acc1 = acc;
  for (int i = 0; i < dk; i++) {
    v128_t x = wasm_f32x4_add(wasm_f32x4_mul(load_n(s + i * dv, n), SPLAT(g[i])), wasm_f32x4_mul(SPLAT(k[i]), w));
    store_n(s + i * dv, x, n);
    v128_t a = wasm_f32x4_add(acc1, wasm_f32x4_mul(SPLAT(q[i]), x));
    acc1 = acc;
    acc = a;
  }
  store_n(o, wasm_f32x4_mul(wasm_f32x4_add(acc, acc1), SPLAT(scale)), n);
  for (int h = 1; h < group; h++) {
    const float *qh = q + h * dk;
    acc = SPLAT(0.0f);
    for (int i = 0; i < dk; i++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(SPLAT(qh[i]), load_n(s + i * dv, n)));
    store_n(o + h * dv, wasm_f32x4_mul(acc, SPLAT(scale)), n);
  }
}

/**
 * LinearAttention (kernels/linear-attention/op.ts) over units [u0, u1) of b * Hkv + h. q [B, T, Hq * dk],
 * k [B, T, Hkv * dk], v [B, T, Hkv * dv]; past (0: zeros) and state [B, Hkv, dk, dv], the state
 * written in place (present_state, or the step's scratch when the node does not output it). decay
 * (0: linear / delta) [B, T, Hkv * decay_width] in log space, decay_width dk or 1; beta (0: linear /
 * gated) [B, T, beta_heads], beta_heads Hkv or 1. scratch: 2 * dk floats (this part's own).
 */
void KILN_EXPORT(kiln_linear_attention_f32)(const float *q, const float *k, const float *v, const float *past, const float *decay,
                                            const float *beta, float *out, float *state, float *scratch, int Hq, int Hkv, int T, int dk,
                                            int dv, int decay_width, int beta_heads, float scale, int u0, int u1) {
  const int group = Hq / Hkv, sz = dk * dv;
  float *g = scratch, *gk = scratch + dk;
  for (int i = 0; i < dk; i++) g[i] = 1.0f;
  for (int u = u0; u < u1; u++) {
    const int b = u / Hkv, h = u % Hkv;
    float *s = state + u * sz;
    if (past) {
      if (past + u * sz != s) __builtin_memcpy(s, past + u * sz, sz * 4);
    } else {
      __builtin_memset(s, 0, sz * 4);
    }
    for (int t = 0; t < T; t++) {
      const int bt = b * T + t, kh = bt * Hkv + h;
      const float *kt = k + kh * dk, *vt = v + kh * dv, *qt = q + (bt * Hq + h * group) * dk;
      float *ot = out + (bt * Hq + h * group) * dv;
      if (decay) {
        const float *d = decay + kh * decay_width;
        int i = 0;
        for (; i + 4 <= decay_width; i += 4) wasm_v128_store(g + i, v_exp(wasm_v128_load(d + i)));
        for (; i < decay_width; i++) store_n(g + i, v_exp(load_n(d + i, 1)), 1);
        for (; i < dk; i++) g[i] = g[0]; // one decay per head
      }
      for (int i = 0; i < dk; i++) gk[i] = g[i] * kt[i];
      const float bv = beta ? beta[bt * beta_heads + (beta_heads == 1 ? 0 : h)] : 0.0f;
      int j = 0;
      for (; j + 4 <= dv; j += 4) la_columns(s + j, kt, vt + j, g, gk, qt, ot + j, beta != 0, bv, group, dk, dv, scale, 4);
      for (; j < dv; j++) la_columns(s + j, kt, vt + j, g, gk, qt, ot + j, beta != 0, bv, group, dk, dv, scale, 1); // the tail, a column at a time
    }
  }
}

/** y = y * sigmoid(y) over n floats (SiLU), 4 at a time, then one lane at a time. */
INLINE void silu_inplace(float *y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t x = wasm_v128_load(y + i);
    wasm_v128_store(y + i, wasm_f32x4_mul(x, v_sigmoid(x)));
  }
  for (; i < n; i++) {
    v128_t x = load_n(y + i, 1);
    store_n(y + i, wasm_f32x4_mul(x, v_sigmoid(x)), 1);
  }
}

/**
 * CausalConvWithState (kernels/causal-conv-with-state/op.ts) over rows [u0, u1) of b * C + c: x and
 * y [B, C, L], w [C, 1, K], bias (0: none) [C], past (0: zeros) and present (0: not output)
 * [B, C, K - 1]. Steps t < K - 1 read the carried state (scalar); the rest read only the input,
 * 4 steps per vector. SiLU runs over blocks of whole rows once they hold >= 256 values (rows are
 * contiguous in y), so decode steps (L = 1) still get full vectors.
 */
void KILN_EXPORT(kiln_causal_conv_f32)(const float *x, const float *w, const float *bias, const float *past, float *y, float *present, int C,
                                       int L, int K, int silu, int u0, int u1) {
  const int S = K - 1, head = S < L ? S : L;
  int pending = u0;
  for (int u = u0; u < u1; u++) {
    const int c = u % C;
    const float *xr = x + u * L, *wr = w + c * K, *pr = past ? past + u * S : 0;
    float *yr = y + u * L;
    const float b0 = bias ? bias[c] : 0.0f;
    int t = 0;
    for (; t < head; t++) {
      float acc = b0;
      for (int j = 0; j < K; j++) {
        int at = t + j;
        acc += wr[j] * (at >= S ? xr[at - S] : pr ? pr[at] : 0.0f);
      }
      yr[t] = acc;
    }
    for (; t + 4 <= L; t += 4) {
      v128_t acc = SPLAT(b0);
      for (int j = 0; j < K; j++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(SPLAT(wr[j]), wasm_v128_load(xr + t + j - S)));
      wasm_v128_store(yr + t, acc);
    }
    for (; t < L; t++) {
      float acc = b0;
      for (int j = 0; j < K; j++) acc += wr[j] * xr[t + j - S];
      yr[t] = acc;
    }
    if (present) {
      float *out = present + u * S;
      for (int s = 0; s < S; s++) {
        int at = L + s;
        out[s] = at >= S ? xr[at - S] : pr ? pr[at] : 0.0f;
      }
    }
    if (silu && ((u + 1 - pending) * L >= 256 || u + 1 == u1)) {
      silu_inplace(y + pending * L, (u + 1 - pending) * L);
      pending = u + 1;
    }
  }
}
