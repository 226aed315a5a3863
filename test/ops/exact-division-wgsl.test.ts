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
import { roundHalfEven } from '../../kernels/common/quant.ts';
import { wgslDivExact, wgslQuantRound4 } from '../../kernels/webgpu/quant-round-wgsl.ts';
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

// kiln_qround4 (QuantizeLinear's rounding of four lanes at once, the vec4 forms' last step) must take
// kiln_div for exactly the lanes whose hardware quotient lies near a half. SwiftShader divides runtime
// values correctly, so a skipped exact path could not be seen with its own quotient: the test makes the
// hardware quotient 1e-6 (~8 ulps) too large, which moves every input one float32 step either side of a
// half across it unless the exact division replaces it (its near-half band is 2e-6 wide).
test('kiln_qround4 rounds as QuantizeLinear even when the hardware quotient is ulps off: the exact path runs for the lanes near a half', async () => {
  const s = Math.fround(0.0173);
  const xs: number[] = [];
  for (let k = -300; k < 300; k++) for (const d of [-1, 0, 1]) xs.push(ulps(Math.fround((k + 0.5) * s), k + 0.5 < 0 ? -d : d));
  xs.push(0, 1, -1, 2.5 * s, 1e-30);
  while (xs.length % 4 !== 0) xs.push(0);
  const n = xs.length;
  const x = Float32Array.from(xs);
  const run = async (variant: (wgsl: string) => string): Promise<Float32Array> => {
    const sb = new ShaderBuilder(caps);
    const X = sb.input('X', { dtype: 'float32', dims: [n] }, 0);
    const Y = sb.output('Y', { dtype: 'float32', dims: [n] });
    sb.declareVec4(X.name);
    sb.declareVec4(Y.name);
    const q4 = wgslQuantRound4(sb);
    const scale = sb.uniform('s', 'f32', s);
    const body = [`  if (global_idx >= ${n / 4}u) { return; }`, `  Y[global_idx] = ${q4}(X[global_idx], ${scale});`].join('\n');
    const program = sb.build({ label: 'kiln_qround4', body, totalInvocations: n / 4 });
    const ctx = await createGpuDevice();
    try {
      return await runProgram(ctx.device, { ...program, shader: variant(program.shader) }, [x], n);
    } finally {
      ctx.device.destroy();
    }
  };
  const perturbed = (wgsl: string): string => {
    assert.ok(wgsl.includes('var q = x / s;'), 'the helper computes the hardware quotient as the test expects');
    return wgsl.replace('var q = x / s;', 'var q = (x / s) * 1.000001;');
  };
  const wrongOf = (got: Float32Array): string[] => {
    const wrong: string[] = [];
    for (let i = 0; i < n; i++) {
      const want = roundHalfEven(Math.fround(x[i]! / s));
      if (got[i] !== want && wrong.length < 5) wrong.push(`x = ${x[i]}: ${got[i]} != ${want}`);
    }
    return wrong;
  };
  assert.deepEqual(wrongOf(await run((w) => w)), []);
  assert.deepEqual(wrongOf(await run(perturbed)), []);
  // the same perturbation with the exact path taken out: the test sees it
  const skipped = await run((w) => perturbed(w).replace('if (near[l])', 'if (false)'));
  assert.ok(wrongOf(skipped).length > 0, 'without the exact path the perturbed quotients round wrongly');
});
