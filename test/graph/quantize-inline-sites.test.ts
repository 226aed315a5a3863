// No WebGPU shader of a quantized model inlines QuantizeLinear's rounding (kiln_qround_*, with its exact
// division) at more than QUANTIZE_LOAD_SITES places: every copy is JIT time on a software adapter, and
// session 14's load prologue put 60 into the demo MNIST CNN's first conv (5.5-7 s to compile, the demo's
// first answer 8.4 s late in Chromium; decision prologue-sites). Counted over the shader's call graph
// (a helper called at n places counts n times), on every shader module the sessions create.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { QUANTIZE_LOAD_SITES } from '../../kernels/webgpu/quant-round-wgsl.ts';
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { MOBILENET_INPUT } from '../helpers/mobilenet-qdq.ts';
import { repoRoot } from '../helpers/paths.ts';
import { buildParityModel } from '../helpers/qdq-parity.ts';

/** How many times `main` reaches a call of a function named `prefix...`, helpers' calls multiplied out. */
function inlinedCalls(wgsl: string, prefix: string): number {
  const bodies = new Map<string, string>();
  for (const m of wgsl.matchAll(/fn (\w+)\s*\(/g)) {
    let depth = 0;
    let i = wgsl.indexOf('{', m.index);
    const start = i;
    for (; i < wgsl.length; i++) {
      if (wgsl[i] === '{') depth++;
      else if (wgsl[i] === '}' && --depth === 0) break;
    }
    bodies.set(m[1]!, wgsl.slice(start, i + 1));
  }
  const memo = new Map<string, number>();
  const reach = (fn: string): number => {
    const known = memo.get(fn);
    if (known !== undefined) return known;
    memo.set(fn, 0); // WGSL has no recursion; this only guards a malformed shader
    let n = 0;
    for (const [callee] of bodies) {
      const calls = (bodies.get(fn)!.match(new RegExp(`\\b${callee}\\(`, 'g')) ?? []).length;
      if (calls > 0) n += calls * (callee.startsWith(prefix) ? 1 : reach(callee));
    }
    memo.set(fn, n);
    return n;
  };
  return bodies.has('main') ? reach('main') : 0;
}

test('the call-graph count multiplies a helper\'s calls out', () => {
  const wgsl = [
    'fn kiln_qround_float32(x: f32, s: f32) -> f32 { return round(x / s); }',
    'fn pro(v: f32) -> f32 { return kiln_qround_float32(v, 2.0); }',
    'fn main() { let a = pro(1.0) + pro(2.0) + pro(3.0); let b = kiln_qround_float32(a, 1.0); }',
  ].join('\n');
  assert.equal(inlinedCalls(wgsl, 'kiln_qround_'), 4);
});

test('no shader of the demo\'s quantized CNNs or the MobileNetV3-like QDQ model inlines a QuantizeLinear rounding more than QUANTIZE_LOAD_SITES times', async () => {
  (await createGpuDevice()).device.destroy(); // installs Dawn's GPUDevice, whose prototype every session's device shares
  const device = (globalThis as { GPUDevice?: { prototype: GPUDevice } }).GPUDevice!.prototype;
  const shaders: { label: string; code: string }[] = [];
  const create = device.createShaderModule;
  device.createShaderModule = function (this: GPUDevice, d: GPUShaderModuleDescriptor) {
    shaders.push({ label: d.label ?? '(no label)', code: d.code });
    return create.call(this, d);
  };
  try {
    const demo = (name: string): Uint8Array => new Uint8Array(readFileSync(join(repoRoot, 'demo', 'models', name)));
    const models: [string, Uint8Array, readonly number[]][] = [
      ['mnist-cnn-int8', demo('mnist-cnn-int8.onnx'), [1, 1, 28, 28]],
      ['mnist-cnn-int4', demo('mnist-cnn-int4.onnx'), [1, 1, 28, 28]],
      ['MobileNetV3-like int8', (await buildParityModel(5)).qdq, MOBILENET_INPUT],
    ];
    for (const [name, bytes, dims] of models) {
      const before = shaders.length;
      // worker: false keeps the WebGPU device on this thread, where the prototype is patched
      const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'], worker: false });
      const n = dims.reduce((a, b) => a * b, 1);
      await s.run({ [s.inputNames[0]!]: new Tensor('float32', new Float32Array(n).fill(0.25), dims) });
      await s.release();
      const counts = shaders.slice(before).map(({ label, code }) => ({ label, n: inlinedCalls(code, 'kiln_qround_') }));
      assert.ok(counts.some((c) => c.n > 0), `${name}: some shader quantizes (the count sees its calls)`);
      const over = counts.filter((c) => c.n > QUANTIZE_LOAD_SITES);
      assert.deepEqual(over.map((c) => `${c.label}: ${c.n}`), [], `${name}: shaders over ${QUANTIZE_LOAD_SITES} inlined roundings`);
    }
  } finally {
    device.createShaderModule = create;
  }
});
