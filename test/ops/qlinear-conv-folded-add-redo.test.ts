// QLinearConv with a folded QLinearAdd (kernels/qlinear-conv/fused-io-wgsl.ts) on WebGPU stores the
// rounding of the hardware quotient and runs the exact division only for the tiles where some output
// lands near a half (ConvProgramIo.fastStore: the epilogue loop again, exactly). SwiftShader divides
// correctly itself, so a skipped second pass could not be seen with its own quotient: the test makes
// the hardware quotient 1e-6 (~8 ulps) too large, inside the near-half band (2e-6), on outputs half of
// which are exact halves (scales 0.5, 0.5 -> 1), and wants the CPU's answers bit for bit; with the
// second pass taken out the same perturbation must show.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { ADD_ATTR, RESIDUAL_SLOT } from '../../kernels/qlinear-conv/fused-io-attrs.ts';
import { testRng } from '../helpers/random.ts';
import { withShaderRewrite } from '../helpers/shader-rewrite.ts';

const rng = testRng(import.meta.url);
const X_DIMS = [1, 6, 7, 9];
const COUT = 20; // two tiles of 16 output channels, the second part empty
const HARDWARE_QUOTIENT = 'let ya_q0 = ya_sum / add_params(4u);';
const REDO_LOOP = 'for (var redo = select(1u, 0u, kiln_redo); redo < 1u; redo++) {';

/** One QLinearConv (3x3, pads 1, per-channel int8 weights, bias) with a folded QLinearAdd of `r`, graph optimizations off. */
function model(mlas: boolean): Uint8Array {
  const cin = X_DIMS[1]!;
  const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
  const initializers: Record<string, AnyTensor> = {
    xs: new Tensor('float32', Float32Array.of(0.02), []), xz: new Tensor('uint8', Uint8Array.of(128), []),
    w: new Tensor('int8', Int8Array.from(ints(COUT * cin * 9, -127, 128)), [COUT, cin, 3, 3]),
    ws: new Tensor('float32', Float32Array.from({ length: COUT }, () => Math.fround(0.002 + rng.uniform() * 0.004)), [COUT]),
    wz: new Tensor('int8', new Int8Array(COUT), [COUT]),
    ys: new Tensor('float32', Float32Array.of(0.1), []), yz: new Tensor('uint8', Uint8Array.of(128), []),
    b: new Tensor('int32', Int32Array.from(ints(COUT, -800, 800)), [COUT]),
  };
  // [s, z, s_r, z_r, s_c, z_c]: the sum is a multiple of 0.5 and the quotient by 1 a half for every odd multiple
  const add = new Tensor('float32', Float32Array.of(0.5, 128, 0.5, 120, 1, 125), [6]);
  const inputs = ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'];
  while (inputs.length < RESIDUAL_SLOT) inputs.push('');
  inputs.push('r');
  return encodeOnnxModel({
    nodes: [{ opType: 'QLinearConv', inputs, outputs: ['y'], attrs: { pads: [1, 1, 1, 1], [ADD_ATTR]: add, ...(mlas ? { kiln_ort_requant: 1 } : {}) } }],
    inputs: [{ name: 'x', dtype: 'uint8', dims: X_DIMS }, { name: 'r', dtype: 'uint8', dims: [1, COUT, X_DIMS[2]!, X_DIMS[3]!] }],
    outputs: [{ name: 'y', dtype: 'uint8' }],
    initializers, opsets: { '': 13 },
  });
}

test('QLinearConv\'s folded QLinearAdd rounds exactly with a hardware quotient ulps off: the exact pass runs for the tiles near a half', async () => {
  const n = X_DIMS.reduce((a, b) => a * b, 1);
  const feeds = {
    x: new Tensor('uint8', Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256)), X_DIMS),
    r: new Tensor('uint8', Uint8Array.from({ length: COUT * X_DIMS[2]! * X_DIMS[3]! }, () => Math.floor(rng.uniform() * 256)), [1, COUT, X_DIMS[2]!, X_DIMS[3]!]),
  };
  const runOn = async (bytes: Uint8Array, ep: 'webgpu' | 'js'): Promise<Uint8Array> => {
    // worker: false keeps the device on this thread, where the prototype is patched
    const s = await InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'disabled', worker: false });
    try {
      const y = (await s.run(feeds)).y!.data as Uint8Array;
      if (ep === 'webgpu') assert.equal(s.lastPlacement!.cpu, 0, 'the conv ran on the GPU');
      return y;
    } finally {
      await s.release();
    }
  };
  const differing = (got: Uint8Array, want: Uint8Array): number => got.reduce((k, v, i) => k + (v === want[i] ? 0 : 1), 0);
  await withShaderRewrite(async (setRewrite) => {
    for (const mlas of [true, false]) {
      const bytes = model(mlas);
      const want = await runOn(bytes, 'js');
      assert.ok(new Set(want).size > 20, 'outputs vary (not saturated)');
      let seen = 0;
      const perturb = (code: string): string => {
        if (!code.includes(HARDWARE_QUOTIENT)) return code;
        seen++;
        assert.ok(code.includes(REDO_LOOP), 'the exact pass is a loop entered when kiln_redo is set');
        return code.split(HARDWARE_QUOTIENT).join('let ya_q0 = (ya_sum / add_params(4u)) * 1.000001;');
      };
      setRewrite(perturb);
      assert.equal(differing(await runOn(bytes, 'webgpu'), want), 0, `mlas ${mlas}: the perturbed quotient rounds as the CPU`);
      assert.ok(seen > 0, 'the folded add\'s shader was rewritten');
      setRewrite((code) => perturb(code).replace(REDO_LOOP, 'for (var redo = 1u; redo < 1u; redo++) {'));
      const skipped = differing(await runOn(bytes, 'webgpu'), want);
      assert.ok(skipped > 0, `mlas ${mlas}: without the exact pass the perturbed quotients round wrongly`);
    }
  });
});
