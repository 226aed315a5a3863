// The compiled kernel module is kept per source and build file (runtime/backends/wasm/wasm-module.ts,
// docs/decisions.md "module-cache"): a second session neither reads nor compiles the bytes again, yet
// gets an instance and a memory of its own; a failed read is not kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { nodeWasmSource } from '../../runtime/backends/wasm/node-wasm-source.ts';
import { loadKilnWasm, packedBBytes, urlWasmSource, type KilnWasm, type WasmSource } from '../../runtime/backends/wasm/wasm-module.ts';

/** C = A B for a 1 x 2 by 2 x 1 product at the module's heap base: 1*3 + 2*4 = 11. */
function productOf(w: KilnWasm): number {
  const base = Math.ceil(w.heapBase / 64) * 64;
  const [a, b, packed, c] = [base, base + 64, base + 128, base + 128 + Math.ceil(packedBBytes(2, 1) / 64) * 64];
  if (c + 64 > w.memory.buffer.byteLength) w.memory.grow(1);
  new Float32Array(w.memory.buffer, a, 2).set([1, 2]);
  new Float32Array(w.memory.buffer, b, 2).set([3, 4]);
  w.packBF32({ b, ldb: 1, k: 2, n: 1, out: packed });
  w.gemmF32({ a, lda: 2, bPacked: packed, c, ldc: 1, m: 1, n: 1, k: 2 });
  return new Float32Array(w.memory.buffer, c, 1)[0]!;
}

test('two loads from one source read and compile the build once, each with its own memory', async () => {
  const reads: string[] = [];
  const inner = nodeWasmSource();
  const counting: WasmSource = (fileName) => {
    reads.push(fileName);
    return inner(fileName);
  };
  const first = await loadKilnWasm({ build: 'simd', source: counting });
  const second = await loadKilnWasm({ build: 'simd', source: counting });
  assert.deepEqual(reads, ['kiln-simd.wasm'], 'the second load read the file again');
  assert.notEqual(first.memory, second.memory);
  assert.equal(productOf(first), 11);
  new Float32Array(first.memory.buffer).fill(Number.NaN, Math.ceil(first.heapBase / 4)); // the first session's bytes must not reach the second
  assert.equal(productOf(second), 11);
});

test('a failed read is not kept: the next load reads again and succeeds', async () => {
  let calls = 0;
  const inner = nodeWasmSource();
  const flaky: WasmSource = (fileName) => (++calls === 1 ? Promise.reject(new Error('network down')) : inner(fileName));
  await assert.rejects(loadKilnWasm({ build: 'simd', source: flaky }), (e: unknown) => e instanceof KilnError && e.code === 'DEVICE_UNAVAILABLE' && /network down/.test(e.message));
  const w = await loadKilnWasm({ build: 'simd', source: flaky });
  assert.equal(calls, 2);
  assert.equal(productOf(w), 11);
});

test('nodeWasmSource and urlWasmSource give one function per place, so sessions share the cache', () => {
  assert.equal(nodeWasmSource(), nodeWasmSource());
  assert.equal(nodeWasmSource('/some/dir'), nodeWasmSource('/some/dir'));
  assert.notEqual(nodeWasmSource('/some/dir'), nodeWasmSource('/other/dir'));
  assert.equal(urlWasmSource('https://cdn.example/kiln/'), urlWasmSource('https://cdn.example/kiln/'));
  assert.notEqual(urlWasmSource('https://cdn.example/kiln/'), urlWasmSource('https://cdn.example/other/'));
});
