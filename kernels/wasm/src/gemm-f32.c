// f32 GEMM for Kiln's wasm backend: C[M,N] = act(A[M,K] * B[K,N] + bias[N]) (optionally + C).
// Built twice by scripts/build-wasm.mjs: plain SIMD128 (mul then add) and relaxed-SIMD
// (KILN_RELAXED: f32x4.relaxed_madd, an FMA where the CPU has one).
//
// B is packed once (kiln_pack_b_f32) into panels of NR = 8 columns, each panel holding its 8 bias
// values and then K rows of 8 floats, zero-padded past N. Padding lets the microkernel always
// compute a full 8-wide tile; only the store at the N edge is partial. A is read in place (row-major
// with stride lda), one broadcast per row and k. The M edge picks the kernel specialised for the
// rows left (1..MR): one switch per tile, never a branch per element.
//
// All pointers are byte offsets into the one imported memory; the module keeps no state, so the
// same instance can later be shared by worker threads.
#include <wasm_simd128.h>

#define NR 8
// 4 rows: 8 accumulators + 2 B vectors + 1 broadcast fit V8's 16 xmm registers with room to spare;
// a 6x8 tile (15 live vectors) measured 36 GFLOP/s against 45 for 4x8 at 512^3 (docs/decisions.md).
#define MR 4
#define PANEL_FLOATS(K) (((K) + 1) * NR)

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

#ifdef KILN_RELAXED
#define MADD(a, b, acc) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(a, b, acc) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

enum { GEMM_ACCUMULATE = 1, GEMM_CLAMP = 2 };

// The first nc (< 8) floats of a row, the rest zero: the N edge of C when accumulating.
static inline __attribute__((always_inline)) void load_row_partial(const float *c, int nc, v128_t *v0, v128_t *v1) {
  v128_t lo = wasm_f32x4_splat(0.0f), hi = lo, tail = lo;
  if (nc & 4) {
    lo = wasm_v128_load(c);
    c += 4;
  }
  if (nc & 2) {
    tail = wasm_v128_load64_zero(c);
    c += 2;
  }
  if (nc & 1) tail = (nc & 2) ? wasm_v128_load32_lane(c, tail, 2) : wasm_v128_load32_lane(c, tail, 0);
  if (nc & 4) hi = tail;
  else lo = tail;
  *v0 = lo;
  *v1 = hi;
}

static inline __attribute__((always_inline)) void store_row(float *c, v128_t v0, v128_t v1, int nc) {
  if (nc == NR) {
    wasm_v128_store(c, v0);
    wasm_v128_store(c + 4, v1);
    return;
  }
  if (nc & 4) {
    wasm_v128_store(c, v0);
    v0 = v1;
    c += 4;
  }
  if (nc & 2) {
    wasm_v128_store64_lane(c, v0, 0);
    v0 = wasm_i64x2_shuffle(v0, v0, 1, 1);
    c += 2;
  }
  if (nc & 1) wasm_v128_store32_lane(c, v0, 0);
}

// One mr x 8 tile over the whole K. mr is a constant after inlining, so the row loops unroll and
// the accumulators live in registers.
static inline __attribute__((always_inline)) void tile(const int mr, int K, const float *a, int lda, const float *panel,
                                                       float *c, int ldc, int nc, int flags, v128_t lo, v128_t hi) {
  v128_t acc0[MR], acc1[MR];
  const float *ar[MR];
  const v128_t bias0 = wasm_v128_load(panel), bias1 = wasm_v128_load(panel + 4);
  for (int i = 0; i < mr; i++) {
    acc0[i] = bias0;
    acc1[i] = bias1;
    ar[i] = a + i * lda;
  }
  if (flags & GEMM_ACCUMULATE) {
    for (int i = 0; i < mr; i++) {
      v128_t c0, c1;
      if (nc == NR) {
        c0 = wasm_v128_load(c + i * ldc);
        c1 = wasm_v128_load(c + i * ldc + 4);
      } else {
        load_row_partial(c + i * ldc, nc, &c0, &c1);
      }
      acc0[i] = wasm_f32x4_add(acc0[i], c0);
      acc1[i] = wasm_f32x4_add(acc1[i], c1);
    }
  }
  const float *bp = panel + NR;
  for (int k = 0; k < K; k++) {
    const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    bp += NR;
    for (int i = 0; i < mr; i++) {
      const v128_t av = wasm_v128_load32_splat(ar[i] + k);
      acc0[i] = MADD(av, b0, acc0[i]);
      acc1[i] = MADD(av, b1, acc1[i]);
    }
  }
  if (flags & GEMM_CLAMP) {
    for (int i = 0; i < mr; i++) {
      acc0[i] = wasm_f32x4_min(wasm_f32x4_max(acc0[i], lo), hi);
      acc1[i] = wasm_f32x4_min(wasm_f32x4_max(acc1[i], lo), hi);
    }
  }
  for (int i = 0; i < mr; i++) store_row(c + i * ldc, acc0[i], acc1[i], nc);
}

// The 1-row tile (M = 1: a matrix-vector product, or the M edge) has only two accumulators, so the
// K loop would wait on the add (or FMA) latency; four k-interleaved pairs of accumulators hide it.
// Measured with B in cache, 1x512x512, GFLOP/s: relaxed 17 -> 28, SIMD128 25 -> 26 (loads bound it).
static inline __attribute__((always_inline)) void tile_row(int K, const float *a, const float *panel, float *c, int nc,
                                                           int flags, v128_t lo, v128_t hi) {
  v128_t s0 = wasm_v128_load(panel), s1 = wasm_v128_load(panel + 4);
  v128_t t0 = wasm_f32x4_splat(0.0f), t1 = t0, u0 = t0, u1 = t0, w0 = t0, w1 = t0;
  if (flags & GEMM_ACCUMULATE) {
    v128_t c0, c1;
    if (nc == NR) {
      c0 = wasm_v128_load(c);
      c1 = wasm_v128_load(c + 4);
    } else {
      load_row_partial(c, nc, &c0, &c1);
    }
    s0 = wasm_f32x4_add(s0, c0);
    s1 = wasm_f32x4_add(s1, c1);
  }
  const float *bp = panel + NR;
  int k = 0;
  for (; k + 4 <= K; k += 4, bp += 4 * NR) {
    const v128_t a0 = wasm_v128_load32_splat(a + k), a1 = wasm_v128_load32_splat(a + k + 1);
    const v128_t a2 = wasm_v128_load32_splat(a + k + 2), a3 = wasm_v128_load32_splat(a + k + 3);
    s0 = MADD(a0, wasm_v128_load(bp), s0);
    s1 = MADD(a0, wasm_v128_load(bp + 4), s1);
    t0 = MADD(a1, wasm_v128_load(bp + 8), t0);
    t1 = MADD(a1, wasm_v128_load(bp + 12), t1);
    u0 = MADD(a2, wasm_v128_load(bp + 16), u0);
    u1 = MADD(a2, wasm_v128_load(bp + 20), u1);
    w0 = MADD(a3, wasm_v128_load(bp + 24), w0);
    w1 = MADD(a3, wasm_v128_load(bp + 28), w1);
  }
  for (; k < K; k++, bp += NR) {
    const v128_t av = wasm_v128_load32_splat(a + k);
    s0 = MADD(av, wasm_v128_load(bp), s0);
    s1 = MADD(av, wasm_v128_load(bp + 4), s1);
  }
  s0 = wasm_f32x4_add(wasm_f32x4_add(s0, t0), wasm_f32x4_add(u0, w0));
  s1 = wasm_f32x4_add(wasm_f32x4_add(s1, t1), wasm_f32x4_add(u1, w1));
  if (flags & GEMM_CLAMP) {
    s0 = wasm_f32x4_min(wasm_f32x4_max(s0, lo), hi);
    s1 = wasm_f32x4_min(wasm_f32x4_max(s1, lo), hi);
  }
  store_row(c, s0, s1, nc);
}

// Matrix-vector tiles (M = 1..3: a decode step, a Linear layer on one token): B is read once per call
// and, when it is past L2, memory bound. One panel is one sequential stream; reading np panels at
// once gives the hardware prefetcher np streams and more misses in flight. Measured (raw kernel, B
// 4096 x 4096 = 64 MB, SIMD128 / relaxed, us): one panel 4293 / 3470, two 3272 / 2704, four 3149 /
// 2735 (a plain 4-stream read of the same bytes: 2759). k advances one row per step; mr * np * 2
// accumulators (1x4: 8, 2x3: 12, 3x2: 12) keep the FMA latency hidden. 3 rows x 3 panels (18) spilled:
// SIMD128 M = 3 went from 7.7 to 12.7 ms CPU at 3x4096x4096; 2 rows x 3 panels beat 2 x 2 (5.8 vs
// 6.3 ms SIMD128, 5.6-5.7 vs 5.8 relaxed). Only whole panels (nc = 8) come here.
static inline __attribute__((always_inline)) void tile_streams(const int mr, const int np, int K, const float *a, int lda,
                                                               const float *panel, int panel_floats, float *c, int ldc,
                                                               int flags, v128_t lo, v128_t hi) {
  v128_t acc[3][4][2];
  for (int p = 0; p < np; p++) {
    const v128_t b0 = wasm_v128_load(panel + p * panel_floats), b1 = wasm_v128_load(panel + p * panel_floats + 4);
    for (int i = 0; i < mr; i++) {
      acc[i][p][0] = b0;
      acc[i][p][1] = b1;
      if (flags & GEMM_ACCUMULATE) {
        acc[i][p][0] = wasm_f32x4_add(b0, wasm_v128_load(c + i * ldc + p * NR));
        acc[i][p][1] = wasm_f32x4_add(b1, wasm_v128_load(c + i * ldc + p * NR + 4));
      }
    }
  }
  const float *bp = panel + NR;
  for (int k = 0; k < K; k++, bp += NR) {
    v128_t av[3];
    for (int i = 0; i < mr; i++) av[i] = wasm_v128_load32_splat(a + i * lda + k);
    for (int p = 0; p < np; p++) {
      const v128_t b0 = wasm_v128_load(bp + p * panel_floats), b1 = wasm_v128_load(bp + p * panel_floats + 4);
      for (int i = 0; i < mr; i++) {
        acc[i][p][0] = MADD(av[i], b0, acc[i][p][0]);
        acc[i][p][1] = MADD(av[i], b1, acc[i][p][1]);
      }
    }
  }
  for (int i = 0; i < mr; i++) {
    for (int p = 0; p < np; p++) {
      v128_t v0 = acc[i][p][0], v1 = acc[i][p][1];
      if (flags & GEMM_CLAMP) {
        v0 = wasm_f32x4_min(wasm_f32x4_max(v0, lo), hi);
        v1 = wasm_f32x4_min(wasm_f32x4_max(v1, lo), hi);
      }
      wasm_v128_store(c + i * ldc + p * NR, v0);
      wasm_v128_store(c + i * ldc + p * NR + 4, v1);
    }
  }
}

// C = act(A * B + bias) for M = 1..3: groups of np whole panels as tile_streams, the panels left over
// (fewer than np, or the partial one at the N edge) one at a time by the ordinary tiles.
static void gemv(int M, int K, const float *a, int lda, const float *b_packed, float *c, int ldc, int N, int flags,
                 v128_t lo, v128_t hi) {
  const int pf = PANEL_FLOATS(K), np = M == 1 ? 4 : M == 2 ? 3 : 2, full = N / NR;
  int p0 = 0;
  for (; p0 + np <= full; p0 += np) {
    const float *panel = b_packed + (long)p0 * pf;
    float *ct = c + p0 * NR;
    switch (M) {
      case 1: tile_streams(1, 4, K, a, lda, panel, pf, ct, ldc, flags, lo, hi); break;
      case 2: tile_streams(2, 3, K, a, lda, panel, pf, ct, ldc, flags, lo, hi); break;
      default: tile_streams(3, 2, K, a, lda, panel, pf, ct, ldc, flags, lo, hi); break;
    }
  }
  for (int n0 = p0 * NR; n0 < N; n0 += NR) {
    const float *panel = b_packed + (long)(n0 / NR) * pf;
    const int nc = N - n0 < NR ? N - n0 : NR;
    switch (M) {
      case 1: tile_row(K, a, panel, c + n0, nc, flags, lo, hi); break;
      case 2: tile(2, K, a, lda, panel, c + n0, ldc, nc, flags, lo, hi); break;
      default: tile(3, K, a, lda, panel, c + n0, ldc, nc, flags, lo, hi); break;
    }
  }
}

// Rows of A per block: the block's rows (mb * K floats) stay in L2 while every B panel passes over it.
static int rows_per_block(int K) {
  int rows = (128 * 1024 / 4) / (K > 0 ? K : 1);
  rows -= rows % MR;
  return rows < MR ? MR : rows;
}

/**
 * C = act(A * B + bias) (+ C when flags & GEMM_ACCUMULATE); act clamps to [lo, hi] when
 * flags & GEMM_CLAMP (Relu: lo = 0, hi = +inf). b_packed comes from kiln_pack_b_f32 with the same K, N.
 */
void KILN_EXPORT(kiln_gemm_f32)(const float *a, int lda, const float *b_packed, float *c, int ldc, int M, int N, int K,
                                int flags, float lo_value, float hi_value) {
  const v128_t lo = wasm_f32x4_splat(lo_value), hi = wasm_f32x4_splat(hi_value);
  if (M <= 3) {
    if (M > 0) gemv(M, K, a, lda, b_packed, c, ldc, N, flags, lo, hi);
    return;
  }
  const int block = rows_per_block(K);
  for (int m0 = 0; m0 < M; m0 += block) {
    const int m1 = M - m0 < block ? M : m0 + block;
    for (int n0 = 0; n0 < N; n0 += NR) {
      const float *panel = b_packed + (n0 / NR) * PANEL_FLOATS(K);
      const int nc = N - n0 < NR ? N - n0 : NR;
      for (int m = m0; m < m1; m += MR) {
        const float *at = a + m * lda;
        float *ct = c + m * ldc + n0;
        switch (m1 - m < MR ? m1 - m : MR) {
          case 4: tile(4, K, at, lda, panel, ct, ldc, nc, flags, lo, hi); break;
          case 3: tile(3, K, at, lda, panel, ct, ldc, nc, flags, lo, hi); break;
          case 2: tile(2, K, at, lda, panel, ct, ldc, nc, flags, lo, hi); break;
          default: tile_row(K, at, panel, ct, nc, flags, lo, hi); break;
        }
      }
    }
  }
}

/**
 * Packs B (K x N, row stride ldb; or N x K when trans_b) and an optional bias (null: zeros) into
 * ceil(N / 8) panels of (K + 1) * 8 floats, zero-padded past N.
 */
void KILN_EXPORT(kiln_pack_b_f32)(const float *b, int ldb, int K, int N, int trans_b, const float *bias, float *out) {
  for (int n0 = 0; n0 < N; n0 += NR) {
    float *panel = out + (n0 / NR) * PANEL_FLOATS(K);
    const int nc = N - n0 < NR ? N - n0 : NR;
    for (int j = 0; j < NR; j++) panel[j] = bias && j < nc ? bias[n0 + j] : 0.0f;
    float *dst = panel + NR;
    for (int k = 0; k < K; k++, dst += NR) {
      for (int j = 0; j < NR; j++) {
        dst[j] = j < nc ? (trans_b ? b[(n0 + j) * ldb + k] : b[k * ldb + n0 + j]) : 0.0f;
      }
    }
  }
}
