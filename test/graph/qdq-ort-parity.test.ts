// Quantized models give onnxruntime's answers (issue 12): Kiln (CPU and WebGPU) vs onnxruntime-web
// (wasm) on QDQ models in onnxruntime's quantize_static patterns.
// - A MobileNetV3-like network (test/helpers/mobilenet-qdq.ts) built from a fresh seed (logged),
//   calibrated on onnxruntime-web: every output within one output quantization step and the same
//   ordered top-5 on every input. Both outputs are dequantized uint8, so logits sit on one grid:
//   a tie in quantized units is a tie for both runtimes, and topK breaks it by index alike; any
//   one-step difference that reorders the top-5 is a real disagreement, so no margin is needed.
// - Tie-stress single-layer models (test/helpers/qdq-tie-conv.ts) whose requantization lands on
//   halves up to float32 rounding: onnxruntime's integer kernels (QLinearConv, QLinearMatMul,
//   QLinearAdd) and a float32 lowering disagree there on hundreds of values, so Kiln must give
//   onnxruntime's integers exactly. This is the test that would have caught the float32 lowering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../core/tensor.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { agreement, buildParityModel, describe, parityInputs, runKiln, runOrt } from '../helpers/qdq-parity.ts';
import { tieModel, type TieOp } from '../helpers/qdq-tie-conv.ts';

const freshSeed = (): number => (Math.random() * 2 ** 31) >>> 0;

// seed 5 is pinned because the float32 lowering this replaced failed it (3 steps off, top-5
// reordered on 2 of 16 inputs); the second model is new every run
for (const seed of [5, freshSeed()]) {
  test(`QDQ MobileNetV3-like (seed ${seed}): Kiln CPU and WebGPU within one output step of onnxruntime-web, same top-5`, async () => {
    const m = await buildParityModel(seed);
    const inputs = parityInputs(seed, 16);
    const want = await runOrt(m.qdq, inputs);
    for (const ep of ['cpu', 'webgpu'] as const) {
      const got = await runKiln(m.qdq, ep, inputs);
      if (ep === 'webgpu') assert.equal(got.cpuSteps, 0, 'a step fell back to the CPU');
      const a = agreement(got.out, want, m.step);
      console.log(`mobilenet seed ${seed} ${ep}: ${describe(a)}`);
      assert.ok(a.maxSteps <= 1 + 1e-6, `${ep}, seed ${seed}: ${describe(a)}`);
      assert.equal(a.top5Same, a.rows, `${ep}, seed ${seed}: ${describe(a)}`);
    }
  });
}

for (const op of ['Conv', 'ConvRelu', 'MatMul', 'Add'] as const satisfies readonly TieOp[]) {
  test(`QDQ ${op} on requantization near-ties: Kiln gives onnxruntime-web's integers exactly`, async () => {
    const seed = freshSeed();
    const { model, dims, input } = tieModel(op, seed);
    const o = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const want = (await o.run({ x: new ort.Tensor('float32', input, dims) })).out!.data as Float32Array;
    await o.release();
    // the model must stress what it claims: onnxruntime's fused answer differs from its own float path
    const u = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
    const unfused = (await u.run({ x: new ort.Tensor('float32', input, dims) })).out!.data as Float32Array;
    await u.release();
    const ties = want.filter((v, i) => v !== unfused[i]).length;
    assert.ok(ties > 0, `seed ${seed}: the ${op} model has no near-ties`);
    for (const ep of ['cpu', 'webgpu'] as const) {
      const s = await InferenceSession.create(model, { executionProviders: [ep] });
      const got = (await s.run({ x: new Tensor('float32', input, dims) })).out!.data as Float32Array;
      await s.release();
      const differ = got.filter((v, i) => v !== want[i]).length;
      assert.equal(differ, 0, `${op} on ${ep}, seed ${seed}: ${differ}/${want.length} values differ from onnxruntime (${ties} near-ties)`);
    }
  });
}
