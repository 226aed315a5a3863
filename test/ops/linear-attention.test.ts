import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { Attributes, type AttributeValue } from '../../core/attributes.ts';
import { definitions, UPDATE_RULES, type UpdateRule } from '../../kernels/linear-attention/op.ts';
import { testRng } from '../helpers/random.ts';
import { runBadInputCases } from './op-errors.ts';
import type { KernelTuning } from '../../runtime/backends/webgpu/kernel-tuning.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const OP = 'LinearAttention';
const omit: InputSpec = { dtype: 'float32', dims: [0], omit: true };

interface Shape { B: number; T: number; Hq: number; Hkv: number; dk: number; dv: number }
interface Options { rule?: UpdateRule; past?: boolean; perHeadDecay?: boolean; sharedBeta?: boolean; scale?: number; outputs?: number; dtype?: 'float16'; tuning?: KernelTuning }

/**
 * query, key, value, past_state?, decay?, beta? with values in the ranges these models feed:
 * keys of about unit norm (the delta rules assume L2-normalized keys; larger ones make the
 * recurrence grow without bound), log-decays in [-1, 0), beta in [0, 1).
 */
function attention(name: string, s: Shape, o: Options = {}): OpCase {
  const dtype = o.dtype ?? 'float32';
  const rule = o.rule ?? 'gated_delta';
  const t = (dims: number[], range: [number, number] = [-1, 1]): InputSpec => ({ dtype, dims, range });
  const kr = Math.sqrt(3 / s.dk);
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  const inputs = [
    t([s.B, s.T, s.Hq * s.dk]), t([s.B, s.T, s.Hkv * s.dk], [-kr, kr]), t([s.B, s.T, s.Hkv * s.dv]),
    o.past ? t([s.B, s.Hkv, s.dk, s.dv], [-0.5, 0.5]) : omit,
    gated ? t([s.B, s.T, s.Hkv * (o.perHeadDecay ? 1 : s.dk)], [-1, 0]) : omit,
    delta ? t([s.B, s.T, o.sharedBeta ? 1 : s.Hkv], [0, 1]) : omit,
  ];
  while (inputs.at(-1)?.omit) inputs.pop();
  return {
    name, op: OP, opset: 27, outputs: o.outputs ?? 2, inputs, ...(o.tuning ? { kernelTuning: o.tuning } : {}),
    attrs: { q_num_heads: s.Hq, kv_num_heads: s.Hkv, ...(o.rule ? { update_rule: o.rule } : {}), ...(o.scale !== undefined ? { scale: { float: o.scale } } : {}) },
    // float32 runs the wasm kernel itself (float16 declines to the js kernel)
    ...(dtype === 'float16' ? { tolerance: { rtol: 2e-3, atol: 2e-3 } } : { tolerance: { rtol: 1e-4, atol: 2e-5 }, wasmKernel: true }),
  };
}

const mha = (B: number, T: number, H: number, d: number): Shape => ({ B, T, Hq: H, Hkv: H, dk: d, dv: d });

const cases: OpCase[] = [
  attention('gated_delta (default rule), prefill', mha(2, 5, 2, 8)),
  attention('gated_delta with past_state', mha(1, 4, 3, 4), { past: true }),
  attention('linear', mha(2, 4, 2, 8), { rule: 'linear' }),
  attention('linear decode step with past', mha(2, 1, 2, 8), { rule: 'linear', past: true }),
  attention('gated, per-key decay', mha(1, 6, 2, 4), { rule: 'gated' }),
  attention('gated, per-head decay', mha(2, 3, 2, 4), { rule: 'gated', perHeadDecay: true, past: true }),
  attention('delta', mha(1, 5, 2, 8), { rule: 'delta' }),
  attention('delta, shared beta', mha(1, 3, 2, 4), { rule: 'delta', sharedBeta: true, past: true }),
  attention('gated_delta GQA (4 query heads on 2)', { B: 2, T: 3, Hq: 4, Hkv: 2, dk: 4, dv: 6 }),
  attention('gated_delta MQA, per-head decay, shared beta', { B: 1, T: 4, Hq: 3, Hkv: 1, dk: 8, dv: 4 }, { perHeadDecay: true, sharedBeta: true }),
  attention('d_v different from d_k', { B: 1, T: 3, Hq: 2, Hkv: 2, dk: 4, dv: 12 }, { past: true }),
  attention('explicit scale', mha(1, 3, 2, 4), { scale: 0.3 }),
  attention('present_state not requested', mha(1, 3, 2, 4), { past: true, outputs: 1 }),
  attention('float16 gated_delta GQA', { B: 1, T: 4, Hq: 4, Hkv: 2, dk: 8, dv: 8 }, { dtype: 'float16', past: true }),
];

// Prompts longer than one chunk (LINEAR_ATTENTION_CHUNK = 32 positions) in the WebGPU kernel's
// chunked form: several chunks and a ragged tail, for every rule and layout. On this machine's
// software adapter 'auto' runs it for the gated rules only, so the others ask for the hardware form.
const hw = { tuning: 'hardware' } as const;
cases.push(
  attention('long: gated_delta, 3 chunks with a ragged tail', mha(1, 75, 2, 16), { past: true }),
  attention('long: gated_delta GQA, per-head decay, shared beta', { B: 2, T: 70, Hq: 4, Hkv: 2, dk: 8, dv: 12 }, { perHeadDecay: true, sharedBeta: true }),
  attention('long: linear, no past', mha(1, 97, 2, 8), { rule: 'linear', ...hw }),
  attention('long: linear with past, exact chunks', mha(1, 64, 1, 12), { rule: 'linear', past: true, ...hw }),
  attention('long: gated, per-key decay, GQA', { B: 1, T: 66, Hq: 6, Hkv: 2, dk: 10, dv: 6 }, { rule: 'gated', past: true }),
  attention('long: gated, per-head decay', mha(2, 40, 2, 8), { rule: 'gated', perHeadDecay: true }),
  attention('long: delta, per-head beta, past', mha(1, 81, 2, 16), { rule: 'delta', past: true, ...hw }),
  attention('long: delta, shared beta, MQA', { B: 1, T: 45, Hq: 3, Hkv: 1, dk: 8, dv: 5 }, { rule: 'delta', sharedBeta: true, ...hw }),
  attention('long: gated_delta, present_state not requested', mha(1, 50, 2, 8), { past: true, outputs: 1 }),
  attention('long: gated_delta, hardware form', { B: 1, T: 75, Hq: 4, Hkv: 2, dk: 16, dv: 20 }, { past: true, ...hw }),
  attention('long: gated, per-head decay, hardware form', mha(2, 40, 2, 8), { rule: 'gated', perHeadDecay: true, ...hw }),
  attention('long: delta, auto form (sequential on software adapters)', mha(1, 70, 2, 8), { rule: 'delta', past: true }),
);

// shapes and options drawn from the run's seed (KILN_TEST_SEED), named by what was drawn: short
// prompts (one chunk, or decode) and long ones (several chunks, usually a ragged tail)
const rng = testRng(import.meta.url, 'shapes');
for (let n = 0; n < 10; n++) {
  const Hkv = rng.intRange(1, 4);
  const T = n < 6 ? rng.intRange(1, 7) : rng.intRange(33, 130);
  const s: Shape = { B: rng.intRange(1, 3), T, Hq: Hkv * rng.intRange(1, 4), Hkv, dk: rng.intRange(1, 17), dv: rng.intRange(1, 17) };
  const o: Options = { rule: rng.pick(UPDATE_RULES), past: rng.uniform() < 0.5, perHeadDecay: rng.uniform() < 0.5, sharedBeta: rng.uniform() < 0.5 };
  cases.push(attention(`random ${JSON.stringify(s)} ${JSON.stringify(o)}`, s, o));
}

runOpCases('linear-attention', cases);

const f32 = (...dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const heads = { q_num_heads: 2, kv_num_heads: 2 };
runBadInputCases('linear-attention', [
  { name: 'heads missing', op: OP, opset: 27, attrs: { q_num_heads: 2 }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8)], error: /kv_num_heads are required/ },
  { name: 'heads not a multiple', op: OP, opset: 27, attrs: { q_num_heads: 3, kv_num_heads: 2 }, inputs: [f32(1, 2, 12), f32(1, 2, 8), f32(1, 2, 8)], error: /must be a multiple of kv_num_heads/ },
  { name: 'key width', op: OP, opset: 27, attrs: { ...heads, update_rule: 'linear' }, inputs: [f32(1, 2, 8), f32(1, 2, 6), f32(1, 2, 8)], error: /key width 6 must be kv_num_heads \* d_k/ },
  { name: 'decay needed', op: OP, opset: 27, attrs: { ...heads, update_rule: 'gated' }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8)], error: /needs the decay input/ },
  { name: 'beta needed', op: OP, opset: 27, attrs: { ...heads, update_rule: 'delta' }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8)], error: /needs the beta input/ },
  { name: 'beta shape', op: OP, opset: 27, attrs: { ...heads, update_rule: 'delta' }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8), omit, omit, f32(1, 2, 3)], error: /beta must be/ },
  { name: 'past_state shape', op: OP, opset: 27, attrs: { ...heads, update_rule: 'linear' }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 4, 2)], error: /past_state must be \(1, 2, 4, 4\)/ },
  { name: 'update_rule', op: OP, opset: 27, attrs: { ...heads, update_rule: 'mamba' }, inputs: [f32(1, 2, 8), f32(1, 2, 8), f32(1, 2, 8)], error: /update_rule 'mamba'/ },
]);

test('LinearAttention: one head, d_k = d_v = 1, each rule by hand', () => {
  const [op] = definitions;
  const one = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from([v]), [1, 1, 1]);
  const [q, k, v, g, beta] = [one(2), one(0.5), one(3), one(Math.log(0.5)), one(0.8)];
  const past = new Tensor('float32', Float32Array.from([4]), [1, 1, 1, 1]);
  const run = (rule: string) => {
    const attrs = new Map<string, AttributeValue>([['q_num_heads', 1], ['kv_num_heads', 1], ['update_rule', rule], ['scale', 1.5]]);
    const [o, s] = op!.reference([q, k, v, past, g, beta], { attrs: new Attributes(attrs), opset: 27, node: 'la', host: [] });
    return [(o!.data as Float32Array)[0]!, (s!.data as Float32Array)[0]!];
  };
  // S = 4; k = 0.5; v = 3; exp(g) = 0.5; beta = 0.8; output = 1.5 * 2 * S'
  const expect: Record<string, number> = {
    linear: 4 + 0.5 * 3,
    gated: 0.5 * 4 + 0.5 * 3,
    delta: 4 + 0.5 * 0.8 * (3 - 4 * 0.5),
    gated_delta: 2 + 0.5 * 0.8 * (3 - 2 * 0.5),
  };
  for (const [rule, state] of Object.entries(expect)) {
    const [o, s] = run(rule);
    assert.ok(Math.abs(s! - state) < 1e-6, `${rule} state ${s} != ${state}`);
    assert.ok(Math.abs(o! - 3 * state) < 1e-5, `${rule} output ${o} != ${3 * state}`);
  }
});
