// ShaderBuilder.elementwise: the vec4 form where the element count allows it, the scalar form for
// the rest, and both give the same answers as plain JavaScript (computed here, not by the kernel).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ShaderBuilder } from '../../kernels/webgpu/shader-builder.ts';
import type { GpuCaps, GpuProgram } from '../../kernels/webgpu/contract.ts';
import '../../runtime/node.ts'; // registers the webgpu package's navigator.gpu in Node
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { runProgram } from '../helpers/run-gpu-program.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

const caps: GpuCaps = {
  maxWorkgroupsPerDimension: 65535, maxInvocationsPerWorkgroup: 256, maxWorkgroupStorageBytes: 16384,
  maxStorageBufferBindingSize: 1 << 27, shaderF16: false, subgroups: false, software: true,
};

/** y = a * b + c, with `c` of one element (a broadcast scalar); `vec4: false` forces the scalar form. */
function fmaProgram(count: number, allowVec4 = true): { program: GpuProgram; vec4: boolean } {
  const b = new ShaderBuilder(caps);
  const A = b.input('A', { dtype: 'float32', dims: [count] }, 0);
  const B = b.input('B', { dtype: 'float32', dims: [count] }, 1);
  const C = b.input('C', { dtype: 'float32', dims: [] }, 2);
  const Y = b.output('Y', { dtype: 'float32', dims: [count] });
  const ew = b.elementwise({ out: Y, count, operands: [{ name: 'a', tensor: A }, { name: 'b', tensor: B }, { name: 'c', tensor: C }], value: 'a * b + c', allowVec4 });
  return { program: b.build({ label: 'fma', body: ew.body, totalInvocations: ew.invocations }), vec4: ew.vec4 };
}

describe('ShaderBuilder.elementwise forms', () => {
  test('the vec4 form where count % 4 == 0, scalar otherwise; a one-element operand stays scalar', () => {
    const v = fmaProgram(64);
    assert.equal(v.vec4, true);
    assert.match(v.program.shader, /var<storage, read> A: array<vec4<f32>>;/);
    assert.match(v.program.shader, /var<storage, read_write> Y: array<vec4<f32>>;/);
    assert.match(v.program.shader, /var<storage, read> C: array<f32>;/);
    // 64 elements, 16 invocations: one workgroup of 64 either way, but a quarter of the threads do work
    const s = fmaProgram(66);
    assert.equal(s.vec4, false);
    assert.doesNotMatch(s.program.shader, /vec4<f32>>/);
    // the two forms are two pipelines: the WGSL (the cache key) differs
    assert.notEqual(fmaProgram(64).program.shader, fmaProgram(64, false).program.shader);
    assert.equal(fmaProgram(8).program.shader, fmaProgram(4096).program.shader, 'one vec4 pipeline serves every size');
  });

  for (const count of [4, 64, 66, 1028, 131075, 300_000]) {
    for (const allowVec4 of [true, false]) {
      test(`${count} elements, ${allowVec4 ? 'vec4 allowed' : 'scalar forced'}`, async () => {
        const ctx = await createGpuDevice();
        const a = Float32Array.from({ length: count }, () => rng.uniform() * 4 - 2);
        const b = Float32Array.from({ length: count }, () => rng.uniform() * 4 - 2);
        const c = Float32Array.of(rng.uniform() - 0.5);
        const { program } = fmaProgram(count, allowVec4);
        const got = await runProgram(ctx.device, program, [a, b, c], count);
        for (let i = 0; i < count; i++) {
          const want = Math.fround(Math.fround(a[i]! * b[i]!) + c[0]!);
          // fma contraction may skip the intermediate rounding: one ulp of slack
          if (Math.abs(got[i]! - want) > Math.abs(want) * 2 ** -22 + 1e-30) assert.fail(`element ${i}: ${got[i]} != ${want}`);
        }
        ctx.device.destroy();
      });
    }
  }
});
