import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { GpuLowering, WebGpuKernel } from '../webgpu/contract.ts';
import { ShaderBuilder } from '../webgpu/shader-builder.ts';
import { dftLayout, stftLayout } from './dft.ts';

/**
 * DFT and STFT: one invocation per output bin, summing its samples (O(L) each, so O(L^2) per
 * line: right for the frame sizes audio front ends use, e.g. Whisper's 400). WGSL's cos/sin only
 * promise an absolute error of 2^-11, which summed over hundreds of samples misses the reference
 * by ~5e-3, so the twiddle e^(2 pi i m / L) is computed here: the quarter turn and the angle within
 * it come from integer arithmetic on (k n mod L), then Taylor series accurate to ~1e-7 on [0, pi/2).
 * Lengths with L^2 >= 2^32 (k n would wrap) run on the CPU.
 */
const TWIDDLE = [
  'fn kiln_twiddle(k: u32, n: u32, len: u32) -> vec2<f32> {',
  '  let m = (k * n) % len;',
  '  let q = (4u * m) / len;',
  '  let phi = f32((4u * m) % len) / f32(len) * 1.5707963267948966;',
  '  let p2 = phi * phi;',
  '  let s = phi * (1.0 + p2 * (-1.0 / 6.0 + p2 * (1.0 / 120.0 + p2 * (-1.0 / 5040.0 + p2 * (1.0 / 362880.0 + p2 * (-1.0 / 39916800.0))))));',
  '  let c = 1.0 + p2 * (-0.5 + p2 * (1.0 / 24.0 + p2 * (-1.0 / 720.0 + p2 * (1.0 / 40320.0 + p2 * (-1.0 / 3628800.0 + p2 * (1.0 / 479001600.0))))));',
  '  switch q {',
  '    case 0u: { return vec2<f32>(c, s); }',
  '    case 1u: { return vec2<f32>(-s, c); }',
  '    case 2u: { return vec2<f32>(-c, -s); }',
  '    default: { return vec2<f32>(s, -c); }',
  '  }',
  '}',
].join('\n');

const dft: WebGpuKernel = (inputs, outputs, ctx): GpuLowering | undefined => {
  const L = dftLayout(inputs, ctx);
  if (L.length * L.length >= 2 ** 32) return undefined;
  const total = L.outer * L.bins * L.inner;
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const Y = b.output('Y', outputs[0]!);
  b.helper('kiln_twiddle', TWIDDLE);
  const n = b.uniform('n', 'u32', total);
  const samples = b.uniform('samples', 'u32', Math.min(L.n, L.length));
  const axisLen = b.uniform('axis_len', 'u32', L.n);
  const len = b.uniform('len', 'u32', L.length);
  const bins = b.uniform('bins', 'u32', L.bins);
  const inner = b.uniform('inner', 'u32', L.inner);
  const sign = L.inverse ? '1.0' : '-1.0';
  const imag = L.channels === 2 ? X.get('e + 1u') : '0.0';
  // irfft: output sample t sums every bin k of the conjugate-symmetric spectrum
  const irfft = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inner};`,
    `  let t = (global_idx / ${inner}) % ${bins};`,
    `  let o = global_idx / (${inner} * ${bins});`,
    '  var sum = 0.0;',
    `  for (var k = 0u; k < ${len}; k++) {`,
    `    let mirrored = k > ${len} / 2u;`,
    `    let j = select(k, ${len} - k, mirrored);`,
    `    if (j >= ${axisLen}) { continue; }`,
    `    let e = ((o * ${axisLen} + j) * ${inner} + i) * ${L.channels}u;`,
    `    let xr = ${X.get('e')};`,
    `    let xi = select(${imag}, -(${imag}), mirrored);`,
    `    let w = kiln_twiddle(k, t, ${len});`,
    '    sum += xr * w.x - xi * w.y;',
    '  }',
    `  ${Y.set('global_idx', `sum / f32(${len})`)}`,
  ].join('\n');
  const body = L.realOutput ? irfft : [
    `  if (global_idx >= ${n}) { return; }`,
    `  let i = global_idx % ${inner};`,
    `  let k = (global_idx / ${inner}) % ${bins};`,
    `  let o = global_idx / (${inner} * ${bins});`,
    '  var re = 0.0;',
    '  var im = 0.0;',
    `  for (var t = 0u; t < ${samples}; t++) {`,
    `    let w = kiln_twiddle(k, t, ${len});`,
    '    let c = w.x;',
    `    let s = ${sign} * w.y;`,
    `    let e = ((o * ${axisLen} + t) * ${inner} + i) * ${L.channels}u;`,
    `    let xr = ${X.get('e')};`,
    `    let xi = ${imag};`,
    '    re += xr * c - xi * s;',
    '    im += xr * s + xi * c;',
    '  }',
    L.inverse ? `  re = re / f32(${len});\n  im = im / f32(${len});` : '',
    `  ${Y.set('global_idx * 2u', 're')}`,
    `  ${Y.set('global_idx * 2u + 1u', 'im')}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `DFT:${ctx.node}`, body, totalInvocations: total })] };
};

const stft: WebGpuKernel = (inputs, outputs, ctx): GpuLowering | undefined => {
  const L = stftLayout(inputs, ctx);
  if (L.frameLength * L.frameLength >= 2 ** 32) return undefined;
  const total = L.batch * L.frames * L.bins;
  if (total === 0) return { kind: 'programs', programs: [] };
  const b = new ShaderBuilder(ctx.caps);
  const X = b.input('X', inputs[0]!, 0);
  const W = inputs[2] ? b.input('W', inputs[2], 2) : undefined;
  const Y = b.output('Y', outputs[0]!);
  b.helper('kiln_twiddle', TWIDDLE);
  const n = b.uniform('n', 'u32', total);
  const signal = b.uniform('signal', 'u32', L.signal);
  const step = b.uniform('step', 'u32', L.step);
  const frames = b.uniform('frames', 'u32', L.frames);
  const len = b.uniform('len', 'u32', L.frameLength);
  const bins = b.uniform('bins', 'u32', L.bins);
  const imag = L.channels === 2 ? X.get('e + 1u') : '0.0';
  const body = [
    `  if (global_idx >= ${n}) { return; }`,
    `  let k = global_idx % ${bins};`,
    `  let f = (global_idx / ${bins}) % ${frames};`,
    `  let batch = global_idx / (${bins} * ${frames});`,
    '  var re = 0.0;',
    '  var im = 0.0;',
    `  for (var t = 0u; t < ${len}; t++) {`,
    `    let w = kiln_twiddle(k, t, ${len});`,
    '    let c = w.x;',
    '    let s = -w.y;',
    `    let e = (batch * ${signal} + f * ${step} + t) * ${L.channels}u;`,
    `    let g = ${W ? W.get('t') : '1.0'};`,
    `    let xr = ${X.get('e')} * g;`,
    `    let xi = ${imag} * g;`,
    '    re += xr * c - xi * s;',
    '    im += xr * s + xi * c;',
    '  }',
    `  ${Y.set('global_idx * 2u', 're')}`,
    `  ${Y.set('global_idx * 2u + 1u', 'im')}`,
  ].join('\n');
  return { kind: 'programs', programs: [b.build({ label: `STFT:${ctx.node}`, body, totalInvocations: total })] };
};

export const webgpu: ImplementationTable<WebGpuKernel> = {
  [opKey('', 'DFT')]: dft,
  [opKey('', 'STFT')]: stft,
};
