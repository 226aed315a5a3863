import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { Attributes } from '../../core/attributes.ts';
import { definitions } from '../../kernels/causal-conv-with-state/op.ts';
import { testRng } from '../helpers/random.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const OP = 'CausalConvWithState';
const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const f16 = (...dims: number[]): InputSpec => ({ dtype: 'float16', dims });
const omit: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const F16_TOL = { rtol: 2e-3, atol: 2e-3 };

/** input (B, C, L), weight (C, 1, K), bias?, past_state? (B, C, K - 1) */
function conv(name: string, B: number, C: number, L: number, K: number, opts: { bias?: boolean; past?: boolean; activation?: string; outputs?: number; dtype?: 'float16' } = {}): OpCase {
  const t = opts.dtype === 'float16' ? f16 : f32;
  const inputs = [t(B, C, L), t(C, 1, K), opts.bias ? t(C) : omit, opts.past ? t(B, C, K - 1) : omit];
  while (inputs.at(-1)?.omit) inputs.pop();
  return {
    name, op: OP, opset: 27, outputs: opts.outputs ?? 2, inputs,
    ...(opts.activation ? { attrs: { activation: opts.activation } } : {}),
    // float32 runs the wasm kernel itself (float16 declines to the js kernel)
    ...(opts.dtype === 'float16' ? { tolerance: F16_TOL } : { wasmKernel: true }),
  };
}

const cases: OpCase[] = [
  conv('no bias, no past (zero left padding)', 2, 3, 7, 4),
  conv('bias and past_state', 2, 4, 6, 4, { bias: true, past: true }),
  conv('silu with past_state', 1, 5, 9, 3, { past: true, activation: 'silu' }),
  conv('swish is silu', 2, 2, 5, 4, { bias: true, activation: 'swish' }),
  conv('explicit activation none', 1, 3, 4, 2, { activation: 'none' }),
  conv('kernel size 1: empty state', 2, 3, 5, 1, { bias: true }),
  conv('input shorter than the state (present_state mixes past and input)', 2, 3, 2, 5, { past: true }),
  conv('decode step (L = 1)', 3, 4, 1, 4, { bias: true, past: true, activation: 'silu' }),
  conv('one channel, one batch', 1, 1, 6, 4, { past: true }),
  conv('present_state not requested', 2, 3, 5, 3, { past: true, outputs: 1 }),
  conv('float16 silu with bias and past', 2, 4, 6, 4, { bias: true, past: true, activation: 'silu', dtype: 'float16' }),
  conv('float16 no past', 1, 3, 5, 3, { dtype: 'float16' }),
];

// shapes and options drawn from the run's seed (KILN_TEST_SEED), named by what was drawn
const rng = testRng(import.meta.url, 'shapes');
for (let n = 0; n < 6; n++) {
  const [B, C, L, K] = [rng.intRange(1, 4), rng.intRange(1, 9), rng.intRange(1, 12), rng.intRange(1, 7)];
  const opts = { bias: rng.uniform() < 0.5, past: rng.uniform() < 0.5, activation: rng.pick(['none', 'silu', 'swish']) };
  cases.push(conv(`random B${B} C${C} L${L} K${K}${opts.bias ? ' bias' : ''}${opts.past ? ' past' : ''} ${opts.activation}`, B, C, L, K, opts));
}

runOpCases('causal-conv-with-state', cases);

runBadInputCases('causal-conv-with-state', [
  { name: 'input rank', op: OP, opset: 27, inputs: [f32(3, 5), f32(3, 1, 2)], error: /input must be 3-D/ },
  { name: 'weight not depthwise', op: OP, opset: 27, inputs: [f32(1, 3, 5), f32(3, 2, 2)], error: /weight must be \(3, 1, k\)/ },
  { name: 'bias length', op: OP, opset: 27, inputs: [f32(1, 3, 5), f32(3, 1, 2), f32(4)], error: /bias must be \(3\)/ },
  { name: 'past_state length', op: OP, opset: 27, inputs: [f32(1, 3, 5), f32(3, 1, 4), omit, f32(1, 3, 2)], error: /past_state must be \(1, 3, 3\)/ },
  { name: 'activation', op: OP, opset: 27, attrs: { activation: 'gelu' }, inputs: [f32(1, 3, 5), f32(3, 1, 2)], error: /activation 'gelu'/ },
  { name: 'types', op: OP, opset: 27, inputs: [f32(1, 3, 5), f16(3, 1, 2)], error: /weight type/ },
]);

test('CausalConvWithState is Conv over the state-padded row, and the state is its last K - 1 steps', () => {
  const [op] = definitions;
  // one channel, K = 3: padded = [p0, p1, x0, x1, x2]
  const x = new Tensor('float32', Float32Array.from([1, 2, 3]), [1, 1, 3]);
  const w = new Tensor('float32', Float32Array.from([0.5, -1, 2]), [1, 1, 3]);
  const bias = new Tensor('float32', Float32Array.from([0.25]), [1]);
  const past = new Tensor('float32', Float32Array.from([4, 5]), [1, 1, 2]);
  const ctx = (activation: string) => ({ attrs: new Attributes(new Map([['activation', activation]])), opset: 27, node: 'c', host: [] });
  const [y, present] = op!.reference([x, w, bias, past], ctx('none'));
  const padded = [4, 5, 1, 2, 3];
  const want = [0, 1, 2].map((t) => 0.25 + 0.5 * padded[t]! - padded[t + 1]! + 2 * padded[t + 2]!);
  assert.deepEqual(Array.from(y!.data as Float32Array), want);
  assert.deepEqual(Array.from(present!.data as Float32Array), [2, 3]);
  const [ys] = op!.reference([x, w, bias, past], ctx('silu'));
  (ys!.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]! / (1 + Math.exp(-want[i]!))) < 1e-6, `silu element ${i}`));
});
