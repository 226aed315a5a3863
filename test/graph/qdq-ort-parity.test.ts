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
import { testRng } from '../helpers/random.ts';

/** a seed drawn from the run's stream (KILN_TEST_SEED replays it) */
const rng = testRng(import.meta.url);
const freshSeed = (): number => rng.int(2 ** 31);

// seed 5 is pinned because the float32 lowering this replaced failed it (3 steps off, top-5
// reordered on 2 of 16 inputs): there the top-5 must be identical. The second model is new every
// run; the one-step differences allowed there (float paths onnxruntime does not fuse) can swap two
// logits one step apart, so its top-5 picks must each be within one step of onnxruntime's.
const PINNED = 5;
for (const seed of [PINNED, freshSeed()]) {
  test(`QDQ MobileNetV3-like (seed ${seed}): Kiln CPU and WebGPU within one output step of onnxruntime-web, same top-5`, async () => {
    const m = await buildParityModel(seed);
    const inputs = parityInputs(seed, 16);
    const want = await runOrt(m.qdq, inputs);
    for (const ep of ['js', 'wasm', 'webgpu'] as const) {
      const got = await runKiln(m.qdq, ep, inputs);
      if (ep === 'webgpu') assert.equal(got.cpuSteps, 0, 'a step fell back to the CPU');
      const a = agreement(got.out, want, m.step);
      console.log(`mobilenet seed ${seed} ${ep}: ${describe(a)}`);
      assert.ok(a.maxSteps <= 1 + 1e-6, `${ep}, seed ${seed}: ${describe(a)}`);
      assert.equal(seed === PINNED ? a.top5Same : a.top5WithinStep, a.rows, `${ep}, seed ${seed}: ${describe(a)}`);
    }
  });
}

for (const op of ['Conv', 'ConvRelu', 'MatMul', 'Add'] as const satisfies readonly TieOp[]) {
  test(`QDQ ${op} on requantization near-ties: Kiln gives onnxruntime-web's integers exactly`, async () => {
    // The model must stress what it claims: onnxruntime's fused answer differs from its own float
    // path. Each draw has ~11 (Conv+Relu) to ~2000 such near-ties, so a draw with none happens about
    // once in e^11 ~ 6e4; up to 4 draws make a tie-free run (~1e-19) impossible in practice.
    const drawTies = async (): Promise<{ seed: number; model: Uint8Array; dims: number[]; input: Float32Array; want: Float32Array; ties: number }> => {
      const seed = freshSeed();
      const { model, dims, input } = tieModel(op, seed);
      const o = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const want = (await o.run({ x: new ort.Tensor('float32', input, dims) })).out!.data as Float32Array;
      await o.release();
      const u = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
      const unfused = (await u.run({ x: new ort.Tensor('float32', input, dims) })).out!.data as Float32Array;
      await u.release();
      return { seed, model, dims: [...dims], input, want, ties: want.filter((v, i) => v !== unfused[i]).length };
    };
    let d = await drawTies();
    for (let tries = 1; d.ties === 0 && tries < 4; tries++) d = await drawTies();
    const { seed, model, dims, input, want, ties } = d;
    assert.ok(ties > 0, `seed ${seed}: the ${op} model has no near-ties in 4 draws`);
    for (const ep of ['js', 'wasm', 'webgpu'] as const) {
      const s = await InferenceSession.create(model, { executionProviders: [ep] });
      const got = (await s.run({ x: new Tensor('float32', input, dims) })).out!.data as Float32Array;
      // the integer ops must have run their wasm kernels (kernels/wasm/gemm-s8.ts), not js
      if (ep === 'wasm') for (const st of s.lastPlacement?.steps ?? []) if (st.opType.startsWith('QLinear') && st.opType !== 'QLinearAdd') assert.equal(st.implementation, 'wasm', `${st.opType} ran ${st.implementation}`);
      await s.release();
      const differ = got.filter((v, i) => v !== want[i]).length;
      assert.equal(differ, 0, `${op} on ${ep}, seed ${seed}: ${differ}/${want.length} values differ from onnxruntime (${ties} near-ties)`);
    }
  });
}
