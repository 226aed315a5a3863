// Fused activations the GEMM's clamp cannot express, as one pass over a kernel's output while it is
// still in cache: LeakyRelu, HardSigmoid, HardSwish (the elementwise table's math, kernels/
// elementwise-unary/unary-math.ts). f32x4.min/max propagate NaN, as the table's forms do.
#include <wasm_simd128.h>

#define KILN_EXPORT(name) __attribute__((export_name(#name))) name

enum { EPILOGUE_LEAKY_RELU = 1, EPILOGUE_HARD_SIGMOID = 2, EPILOGUE_HARD_SWISH = 3 };

static inline __attribute__((always_inline)) v128_t apply(int kind, v128_t x, v128_t p0, v128_t p1) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  switch (kind) {
    case EPILOGUE_LEAKY_RELU: return wasm_v128_bitselect(x, wasm_f32x4_mul(x, p0), wasm_f32x4_ge(x, zero));
    case EPILOGUE_HARD_SIGMOID: return wasm_f32x4_min(wasm_f32x4_max(wasm_f32x4_add(wasm_f32x4_mul(x, p0), p1), zero), one);
    default: {
      const v128_t gate = wasm_f32x4_add(wasm_f32x4_div(x, wasm_f32x4_splat(6.0f)), wasm_f32x4_splat(0.5f));
      return wasm_f32x4_mul(x, wasm_f32x4_min(wasm_f32x4_max(gate, zero), one));
    }
  }
}

static inline __attribute__((always_inline)) void run(int kind, float *y, int n, v128_t p0, v128_t p1) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, apply(kind, wasm_v128_load(y + i), p0, p1));
  if (i < n) {
    float tail[4] = {0, 0, 0, 0};
    for (int j = 0; i + j < n; j++) tail[j] = y[i + j];
    wasm_v128_store(tail, apply(kind, wasm_v128_load(tail), p0, p1));
    for (int j = 0; i + j < n; j++) y[i + j] = tail[j];
  }
}

/** y[0..n) = act(y) in place; kind is one of EPILOGUE_*, p0/p1 its parameters (LeakyRelu alpha; HardSigmoid alpha, beta). */
void KILN_EXPORT(kiln_epilogue_f32)(float *y, int n, int kind, float p0, float p1) {
  const v128_t a = wasm_f32x4_splat(p0), b = wasm_f32x4_splat(p1);
  if (kind == EPILOGUE_LEAKY_RELU) run(EPILOGUE_LEAKY_RELU, y, n, a, b);
  else if (kind == EPILOGUE_HARD_SIGMOID) run(EPILOGUE_HARD_SIGMOID, y, n, a, b);
  else if (kind == EPILOGUE_HARD_SWISH) run(EPILOGUE_HARD_SWISH, y, n, a, b);
}
