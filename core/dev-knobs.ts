// Settings for Kiln's own tests, benches and debugging: not the API, never needed to use Kiln. They
// are read from globalThis (a bench sets one in Node, a developer from a page's console) or, where
// noted, from the environment, and every one is listed here so none hides in the code that reads it.

export interface DevKnobs {
  /** print the WGSL of programs whose label contains this (an op type), or of all with '*' (also env KILN_PRINT_WGSL) */
  KILN_PRINT_WGSL?: string;
  /** WebGPU: fill fresh buffers with NaN-like bytes, so a kernel that reads what it never wrote shows it (also env KILN_POISON_BUFFERS=1) */
  KILN_POISON_BUFFERS?: boolean;
  /** WebGPU KvCacheAttention: the query count from which the tiled prefill form runs (Infinity: the per-row form always) */
  KILN_KV_TILED_FROM?: number;
  /** WebGPU MatMulNBits: force this many K splits (tests cover both paths on SwiftShader) */
  KILN_NBITS_SPLIT?: number;
  /** wasm MatMulNBits: largest float32 W in bytes kept as a dequantized copy (0: always packed) */
  KILN_NBITS_F32_BYTES?: number;
  /** wasm MatMulNBits: the row count from which the prefill kernel runs (Infinity: the per-row kernel always) */
  KILN_NBITS_PREFILL_ROWS?: number;
  /** generate(): feed and fetch the KV cache every step (the path before the cache was carried in wasm memory) */
  KILN_KV_FEED_EACH_STEP?: boolean;
}

/** The knobs as globals: tests and benches set them through this, typed. */
export const devKnobs = globalThis as DevKnobs;

/** `name` from globalThis, else from the environment where there is one (Node). */
export function devKnobFromEnv(name: 'KILN_PRINT_WGSL' | 'KILN_POISON_BUFFERS'): string | boolean | undefined {
  const g = globalThis as DevKnobs & { process?: { env?: Record<string, string | undefined> } };
  return g[name] ?? g.process?.env?.[name];
}
