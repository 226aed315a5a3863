// The wasm Log kernel scales denormal inputs up before its reduction (kernels/wasm/src/vmath.h,
// v_log). The op cases cannot feed denormals (SwiftShader's WebGPU answers NaN for them), so this
// calls the kernel itself on denormals and their neighbours, against Math.log (the SIMD128 build; the
// relaxed one compiles the same C: v_log uses no relaxed intrinsic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm } from '../../runtime/backends/wasm/wasm-module.ts';

const LOG_CODE = 22; // kernels/elementwise-unary/wasm.ts UNARY_CODES.Log
const values = [1e-45, 1.4e-45, 3e-42, 1e-40, 5.9e-39, 1.1754942e-38, 1.17549435e-38, 2e-38, 1e-30, 0.5, 3];

for (const build of ['simd'] as const) {
  test(`Log of denormals in wasm (${build})`, async () => {
    const k = await loadKilnWasm({ source: nodeWasmSource(), build });
    try {
      const at = Math.ceil(k.heapBase / 16) * 16;
      if (k.memory.buffer.byteLength < at + 1024) k.memory.grow(1);
      const x = new Float32Array(k.memory.buffer, at, values.length);
      x.set(values);
      const y = new Float32Array(k.memory.buffer, at + 512, values.length).fill(NaN); // poisoned first
      k.fn('kiln_unary_f32')(LOG_CODE, at, at + 512, values.length, 0, 0);
      x.forEach((v, i) => {
        const want = Math.log(v);
        assert.ok(Math.abs(y[i]! - want) <= 1e-6 * Math.abs(want), `log(${v}) = ${y[i]}, expected ${want}`);
      });
    } finally {
      await k.release();
    }
  });
}
