// ShaderBuilder.elementwise: the vec4 form where the element count allows it, the scalar form for
// the rest, and both give the same answers as plain JavaScript (computed here, not by the kernel).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ShaderBuilder } from '../../kernels/webgpu/shader-builder.ts';
import type { GpuCaps, GpuProgram } from '../../kernels/webgpu/contract.ts';
import '../../runtime/node.ts'; // registers the webgpu package's navigator.gpu in Node
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { runProgram } from '../helpers/run-gpu-program.ts';
import { webgpuKernelFor } from '../../kernels/webgpu/kernels.ts';
import { Attributes } from '../../core/attributes.ts';
import type { DataType } from '../../core/dtype.ts';
import type { TensorMeta } from '../../kernels/contract.ts';
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

// The ops that go through ShaderBuilder.elementwise pick the vec4 form for the shapes their
// "vec4 form" op cases use (those cases check the answers), and the scalar form for the others.
describe('elementwise ops: which form', () => {
  const m = (dtype: DataType, dims: number[]): TensorMeta => ({ dtype, dims });
  const ctx = { attrs: Attributes.empty(), opset: 17, node: 'n', host: [], caps };
  const labels = (opType: string, inputs: TensorMeta[], out: TensorMeta, attrs = Attributes.empty()): string[] => {
    const low = webgpuKernelFor({ domain: '', opType })!(inputs, [out], { ...ctx, attrs });
    assert.equal(low?.kind, 'programs');
    return low.kind === 'programs' ? low.programs.map((p) => p.label) : [];
  };
  const f = (...dims: number[]): TensorMeta => m('float32', dims);
  const cases: [string, string[], boolean][] = [
    ['Relu [3,4]', labels('Relu', [f(3, 4)], f(3, 4)), true],
    ['Relu [3,17,5]', labels('Relu', [f(3, 17, 5)], f(3, 17, 5)), false],
    ['Clip [4,16] with fed bounds', labels('Clip', [f(4, 16), f(), f()], f(4, 16)), true],
    ['Add [4,8] + []', labels('Add', [f(4, 8), f()], f(4, 8)), true],
    ['Add [7,9] + []', labels('Add', [f(7, 9), f()], f(7, 9)), false],
    // a broadcast along a last axis % 4: the binary kernel's own vec4 rows form (elementwise-binary/webgpu.ts)
    ['Add [2,3,4] + [4] (broadcast along rows)', labels('Add', [f(2, 3, 4), f(4)], f(2, 3, 4)), true],
    ['Add [2,3,6] + [3,1] (broadcast, rows of 6)', labels('Add', [f(2, 3, 6), f(3, 1)], f(2, 3, 6)), false],
    ['Less [2,16]', labels('Less', [f(2, 16), f(2, 16)], m('bool', [2, 16])), true],
    ['Cast float32 -> float16 [4,16]', labels('Cast', [f(4, 16)], m('float16', [4, 16]), new Attributes(new Map([['to', 10]]))), true],
    ['Where [] ? [8] : [8]', labels('Where', [m('bool', []), f(8), f(8)], f(8)), true],
    ['Where [4,1] ? [4,6] : [4,6] (broadcast)', labels('Where', [m('bool', [4, 1]), f(4, 6), f(4, 6)], f(4, 6)), false],
  ];
  for (const [name, got, vec4] of cases) {
    test(`${name}: ${vec4 ? 'vec4' : 'scalar'}`, () => {
      assert.equal(got.length, 1, 'one dispatch in either form');
      assert.equal(got[0]!.includes('/vec4'), vec4, got[0]);
    });
  }
});
