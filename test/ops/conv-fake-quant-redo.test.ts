// A Conv whose epilogue holds an activation's fake quantization (kiln.QuantizeDequantize, folded in by
// the WebGPU fusion pass) stores the hardware quotient's rounding (kiln_qround_fast) and runs the exact
// epilogue again only for the tiles where some output lands near a half (ConvProgramIo.fastStore).
// SwiftShader divides correctly itself, so a skipped second pass could not be seen with its own quotient:
// the test makes the hardware quotient 1e-6 (~8 ulps) too large, inside the near-half band (2e-6), on
// conv outputs that are multiples of 1/4, so half the quotients by the scale 1/2 sit exactly on a half, and wants the CPU's answers bit
// for bit; with the second pass taken out the same perturbation must show.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { testRng } from '../helpers/random.ts';
import { withShaderRewrite } from '../helpers/shader-rewrite.ts';

const rng = testRng(import.meta.url);
const X_DIMS = [1, 3, 9, 11];
const COUT = 6;
const HARDWARE_QUOTIENT = 'let q0 = x / s;';
const REDO_LOOP = 'for (var redo = select(1u, 0u, kiln_redo); redo < 1u; redo++) {';

/** Conv 3x3 (pads 1, bias) with a uint8 fake quantization of scale 1/2 in its epilogue; inputs and weights multiples of 1/2. */
function model(): Uint8Array {
  const halves = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => Math.floor(lo + rng.uniform() * (hi - lo + 1)) / 2);
  return encodeOnnxModel({
    nodes: [{
      opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'],
      attrs: { pads: [1, 1, 1, 1], kiln_epilogue_steps: ['QuantizeDequantize i0 k0 k1 k2 k3'], kiln_epilogue_constants: { floats: [0.5, 100, 0, 255] } },
    }],
    inputs: [{ name: 'x', dtype: 'float32', dims: X_DIMS }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: {
      w: new Tensor('float32', halves(COUT * X_DIMS[1]! * 9, -2, 2), [COUT, X_DIMS[1]!, 3, 3]),
      b: new Tensor('float32', halves(COUT, -4, 4), [COUT]),
    },
    opsets: { '': 13 },
  });
}

test('a Conv epilogue\'s fake quantization rounds exactly with a hardware quotient ulps off: the exact pass runs for the tiles near a half', async () => {
  const n = X_DIMS.reduce((a, b) => a * b, 1);
  const x = new Tensor('float32', Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * 9 - 4) / 2), X_DIMS);
  const bytes = model();
  const runOn = async (ep: 'webgpu' | 'js'): Promise<Float32Array> => {
    // worker: false keeps the device on this thread, where the prototype is patched
    const s = await InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'disabled', worker: false });
    try {
      const y = (await s.run({ x })).y!.data as Float32Array;
      if (ep === 'webgpu') assert.equal(s.lastPlacement!.cpu, 0, 'the conv ran on the GPU');
      return y;
    } finally {
      await s.release();
    }
  };
  const differing = (got: Float32Array, want: Float32Array): number => got.reduce((k, v, i) => k + (v === want[i] ? 0 : 1), 0);
  await withShaderRewrite(async (setRewrite) => {
    const want = await runOn('js');
    assert.ok(new Set(want).size > 10, 'outputs vary (not saturated)');
    let seen = 0;
    const perturb = (code: string): string => {
      if (!code.includes('kiln_qround_fast')) return code;
      seen++;
      assert.ok(code.includes(REDO_LOOP), 'the exact pass is a loop entered when kiln_redo is set');
      return code.split(HARDWARE_QUOTIENT).join('let q0 = (x / s) * 1.000001;');
    };
    setRewrite(perturb);
    assert.equal(differing(await runOn('webgpu'), want), 0, 'the perturbed quotient rounds as the CPU');
    assert.ok(seen > 0, 'the conv\'s shader has the fast epilogue');
    setRewrite((code) => perturb(code).replace(REDO_LOOP, 'for (var redo = 1u; redo < 1u; redo++) {'));
    const skipped = differing(await runOn('webgpu'), want);
    assert.ok(skipped > 0, 'without the exact pass the perturbed quotients round wrongly');
  });
});
