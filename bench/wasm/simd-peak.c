// The machine's wasm SIMD f32 peak, for bench/node/wasm-gemm-bench.ts: 12 independent accumulator
// chains of f32x4 multiply-then-add (or relaxed_madd with KILN_RELAXED), no memory traffic. 12
// chains hide the mul+add latency and leave registers for the two operands, as a GEMM tile does.
// Returns a sum of the accumulators so the loop cannot be removed. FLOPs = iters * 12 * 4 * 2.
#include <wasm_simd128.h>

#ifdef KILN_RELAXED
#define MADD(a, b, acc) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(a, b, acc) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (acc))
#endif

__attribute__((export_name("kiln_simd_peak_f32"))) float kiln_simd_peak_f32(int iters, float x, float y) {
  const v128_t vx = wasm_f32x4_splat(x), vy = wasm_f32x4_splat(y);
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = wasm_f32x4_splat(0.1f), a2 = wasm_f32x4_splat(0.2f), a3 = wasm_f32x4_splat(0.3f);
  v128_t a4 = wasm_f32x4_splat(0.4f), a5 = wasm_f32x4_splat(0.5f), a6 = wasm_f32x4_splat(0.6f), a7 = wasm_f32x4_splat(0.7f);
  v128_t a8 = wasm_f32x4_splat(0.8f), a9 = wasm_f32x4_splat(0.9f), a10 = wasm_f32x4_splat(1.0f), a11 = wasm_f32x4_splat(1.1f);
  for (int i = 0; i < iters; i++) {
    // acc = acc * x + y: each chain depends on itself only, like a GEMM accumulator.
    a0 = MADD(a0, vx, vy); a1 = MADD(a1, vx, vy); a2 = MADD(a2, vx, vy); a3 = MADD(a3, vx, vy);
    a4 = MADD(a4, vx, vy); a5 = MADD(a5, vx, vy); a6 = MADD(a6, vx, vy); a7 = MADD(a7, vx, vy);
    a8 = MADD(a8, vx, vy); a9 = MADD(a9, vx, vy); a10 = MADD(a10, vx, vy); a11 = MADD(a11, vx, vy);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)), wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9), wasm_f32x4_add(a10, a11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
}
