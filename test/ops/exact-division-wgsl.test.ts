// kiln_div (kernels/webgpu/quant-round-wgsl.ts), the correctly rounded float32 quotient that every
// WebGPU QuantizeLinear rounding leans on near a tie, against the CPU's quotient (float64 division
// rounded to float32: double rounding is innocuous for division, 53 >= 2 * 24 + 2), bit for bit.
// Inputs: random operands over a wide exponent range, quotients within a few ulps of half-integers
// (the cases QuantizeLinear sends it), significand ratios near 1 (the normalisation shift) and
// quotients that round up to the next power of two (the carry). SwiftShader divides two runtime values
// correctly itself, so what this checks is the integer path every normal quotient takes (a dropped
// sticky bit fails it; the hardware fallback cannot be told apart here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GpuCaps } from '../../kernels/webgpu/contract.ts';
import { wgslDivExact } from '../../kernels/webgpu/quant-round-wgsl.ts';
import { ShaderBuilder } from '../../kernels/webgpu/shader-builder.ts';
import '../../runtime/node.ts'; // registers the webgpu package's navigator.gpu in Node
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { runProgram } from '../helpers/run-gpu-program.ts';
import { testRng } from '../helpers/random.ts';

const rng = testRng(import.meta.url);

const caps: GpuCaps = {
  maxWorkgroupsPerDimension: 65535, maxInvocationsPerWorkgroup: 256, maxWorkgroupStorageBytes: 16384,
  maxStorageBufferBindingSize: 1 << 27, shaderF16: false, subgroups: false, software: true,
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (v: number): number => ((f32[0] = v), u32[0]!);
/** v moved by k float32 steps (finite normal v away from zero). */
const ulps = (v: number, k: number): number => ((f32[0] = v), (u32[0] = u32[0]! + k), f32[0]!);
const isNormal = (v: number): boolean => Number.isFinite(v) && Math.abs(v) >= 2 ** -126;

function operands(n: number): [Float32Array, Float32Array] {
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const sign = (): number => (rng.uniform() < 0.5 ? -1 : 1);
  const wide = (): number => sign() * (1 + rng.uniform()) * 2 ** Math.floor(rng.uniform() * 80 - 40);
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0: // anything
        a[i] = wide();
        b[i] = wide();
        break;
      case 1: { // x / s within 3 ulps of a half-integer, as QuantizeLinear's near-tie test sends it
        const s = (0.5 + rng.uniform()) * 2 ** Math.floor(rng.uniform() * 16 - 12);
        const half = Math.floor(rng.uniform() * 600 - 300) + 0.5;
        b[i] = s;
        a[i] = ulps(Math.fround(half * b[i]!), Math.floor(rng.uniform() * 7) - 3);
        break;
      }
      case 2: // significands within a few ulps of each other: the quotient's normalisation shift flips
        b[i] = wide();
        a[i] = ulps(Math.fround(b[i]! * 2 ** Math.floor(rng.uniform() * 8 - 4)), Math.floor(rng.uniform() * 9) - 4);
        break;
      default: // a quotient just below a power of two: rounding carries into the exponent
        b[i] = wide();
        a[i] = ulps(Math.fround(b[i]! * 2 ** Math.floor(rng.uniform() * 8 - 4)), -1 - Math.floor(rng.uniform() * 2));
    }
  }
  return [a, b];
}

test('kiln_div gives the correctly rounded float32 quotient, bit for bit', async () => {
  const n = 120_000;
  const [a, b] = operands(n);
  const sb = new ShaderBuilder(caps);
  const A = sb.input('A', { dtype: 'float32', dims: [n] }, 0);
  const B = sb.input('B', { dtype: 'float32', dims: [n] }, 1);
  const Y = sb.output('Y', { dtype: 'float32', dims: [n] });
  const div = wgslDivExact(sb);
  const count = sb.uniform('n', 'u32', n);
  const body = [`  if (global_idx >= ${count}) { return; }`, `  ${Y.set('global_idx', `${div}(${A.get('global_idx')}, ${B.get('global_idx')})`)}`].join('\n');
  const ctx = await createGpuDevice();
  try {
    const got = await runProgram(ctx.device, sb.build({ label: 'kiln_div', body, totalInvocations: n }), [a, b], n);
    let checked = 0;
    const wrong: string[] = [];
    for (let i = 0; i < n; i++) {
      const want = Math.fround(a[i]! / b[i]!);
      // zeros, infinities, subnormal operands or results keep the hardware quotient (documented)
      if (!isNormal(a[i]!) || !isNormal(b[i]!) || !isNormal(want)) continue;
      checked++;
      if (bitsOf(got[i]!) !== bitsOf(want) && wrong.length < 5) wrong.push(`${a[i]} / ${b[i]}: ${got[i]} != ${want}`);
    }
    assert.ok(checked > n * 0.9, `${checked} of ${n} quotients checked`);
    assert.deepEqual(wrong, []);
  } finally {
    ctx.device.destroy();
  }
});
