// A Conv's load prologue (the model input's fake quantization, decision prologue-sites) is inlined
// only into tiles that load x at most QUANTIZE_LOAD_SITES times; a tile that unrolls more loads gets
// the prologue as a program of its own. Each inlined copy carries QuantizeLinear's exact rounding, and
// SwiftShader's JIT time grows with the copies (60 of them: 5.5-7 s for one shader). The answers of
// both forms are the op cases' (test/ops/fused-elementwise.test.ts, with and without hardware tuning).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attributes } from '../../core/attributes.ts';
import type { TensorMeta } from '../../kernels/contract.ts';
import { QUANTIZE_LOAD_SITES } from '../../kernels/webgpu/quant-round-wgsl.ts';
import type { GpuCaps, GpuProgram } from '../../kernels/webgpu/contract.ts';
import { webgpuKernelFor } from '../../kernels/webgpu/kernels.ts';

const caps = (software: boolean): GpuCaps => ({
  maxWorkgroupsPerDimension: 65535, maxInvocationsPerWorkgroup: 256, maxWorkgroupStorageBytes: 16384,
  maxStorageBufferBindingSize: 1 << 27, shaderF16: false, subgroups: false, software,
});

/** The Conv's programs with a uint8 fake quantization of x folded into its load. */
function lower(x: TensorMeta, w: TensorMeta, group: number, software: boolean): GpuProgram[] {
  const attrs = Attributes.empty()
    .with('pads', [1, 1, 1, 1])
    .with('group', group)
    .with('kiln_prologue_steps', ['QuantizeDequantize i0 k0 k1 k2 k3'])
    .with('kiln_prologue_constants', [0.0123, 128, 0, 255]);
  const out: TensorMeta = { dtype: 'float32', dims: [x.dims[0]!, w.dims[0]!, x.dims[2]!, x.dims[3]!] };
  const low = webgpuKernelFor({ domain: '', opType: 'Conv' })!([x, w], [out], { attrs, opset: 17, node: 'c', host: [], caps: caps(software) });
  assert.equal(low?.kind, 'programs');
  return low.kind === 'programs' ? [...low.programs] : [];
}

/** Calls of the prologue helper in a shader (its definition excluded). */
const prologueCalls = (p: GpuProgram): number => (p.shader.match(/kiln_prologue\(/g) ?? []).length - (p.shader.includes('fn kiln_prologue(') ? 1 : 0);

test('a tile unrolling many loads of x (the demo MNIST CNN\'s first conv on a software adapter) quantizes x in a program of its own', () => {
  const programs = lower({ dtype: 'float32', dims: [1, 1, 28, 28] }, { dtype: 'float32', dims: [32, 1, 3, 3] }, 1, true);
  assert.deepEqual(programs.map((p) => p.label), ['Conv:c:prologue', 'Conv:c']);
  assert.equal(prologueCalls(programs[0]!), 1, 'one fake quantization per element of x');
  assert.equal(prologueCalls(programs[1]!), 0, 'the conv reads the quantized x');
  assert.deepEqual(programs[1]!.bindings.find((r) => r.kind === 'temp'), { kind: 'temp', index: 0, readOnly: true });
});

test('a tile with few loads of x (3x3, 3 -> 4 channels, hardware tuning) keeps the prologue in its load', () => {
  const programs = lower({ dtype: 'float32', dims: [1, 3, 8, 10] }, { dtype: 'float32', dims: [4, 3, 3, 3] }, 1, false);
  assert.deepEqual(programs.map((p) => p.label), ['Conv:c']);
  const calls = prologueCalls(programs[0]!);
  assert.ok(calls >= 1 && calls <= QUANTIZE_LOAD_SITES, `${calls} inlined prologue calls`);
});
