// The recurrent opset-27 ops' wasm kernels (kernels/wasm/src/recurrent.c): the ONNX conformance
// cases of LinearAttention and CausalConvWithState run their wasm kernels (not the js fallback) and
// give the expected outputs; on the thread pool, (batch, head) / (batch, channel) units split across
// 2 and 3 threads give the 1-thread bits, and the 1-thread output matches the op's reference. Sizes
// are above the pool's threshold (128^3 MACs) and leave tails (d_v, L not multiples of 4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { expectSameOnThreads } from '../helpers/same-on-threads.ts';
import { listCases, loadCase } from '../conformance/conformance-cases.ts';
import { toleranceFor } from '../conformance/tolerances.ts';

const RECURRENT = new Set(['LinearAttention', 'CausalConvWithState']);

test('conformance cases of LinearAttention and CausalConvWithState (float32) run their wasm kernels', async () => {
  const cases = listCases().filter((c) => /^test_(linear_attention|causal_conv_with_state)_/.test(c.name) && !/_expanded$|fp16/.test(c.name));
  assert.ok(cases.length >= 20, `only ${cases.length} conformance cases found`);
  for (const c of cases) {
    const { modelBytes, dataSets } = loadCase(c);
    const s = await InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
    try {
      for (const ds of dataSets) {
        const out = await s.run(ds.inputs);
        const steps = (s.lastPlacement?.steps ?? []).filter((st) => RECURRENT.has(st.opType));
        assert.ok(steps.length > 0 && steps.every((st) => st.implementation === 'wasm'), `${c.name}: ${steps.map((st) => `${st.opType} in ${st.implementation}`).join(', ')}`);
        for (const [name, want] of Object.entries(ds.outputs)) {
          const problem = compareTensors(out[name]!, want, toleranceFor(c.name, want.type, 'wasm'));
          assert.equal(problem, undefined, `${c.name} output '${name}': ${problem}`);
        }
      }
    } finally {
      await s.release();
    }
  }
});

const rng = testRng(import.meta.url);
const f = (dims: number[], lo = -1, hi = 1): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(dims.reduce((a, b) => a * b, 1), lo, hi)), dims);

function oneNode(op: string, attrs: Readonly<Record<string, WriterAttribute>>, feeds: Record<string, AnyTensor>, order: readonly string[], outputs: number): Uint8Array {
  const outs = Array.from({ length: outputs }, (_, i) => `o${i}`);
  return encodeOnnxModel({
    nodes: [{ opType: op, domain: '', inputs: [...order], outputs: outs, attrs }],
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: outs.map((name) => ({ name, dtype: 'float32' })),
    initializers: {},
    opsets: { '': 27 },
  });
}

const sameOnThreads = (bytes: Uint8Array, feeds: Record<string, AnyTensor>): Promise<void> => expectSameOnThreads(bytes, feeds, rng.seed);

test('LinearAttention gated_delta, GQA 2:1 with past, per-row decay: 1, 2, 3 threads give the same bits', async () => {
  const B = 2, T = 64, Hq = 6, Hkv = 3, dk = 37, dv = 45, kr = Math.sqrt(3 / dk);
  const feeds = {
    q: f([B, T, Hq * dk]), k: f([B, T, Hkv * dk], -kr, kr), v: f([B, T, Hkv * dv]), past: f([B, Hkv, dk, dv], -0.5, 0.5),
    decay: f([B, T, Hkv * dk], -1, 0), beta: f([B, T, Hkv], 0, 1),
  };
  await sameOnThreads(oneNode('LinearAttention', { q_num_heads: Hq, kv_num_heads: Hkv }, feeds, ['q', 'k', 'v', 'past', 'decay', 'beta'], 2), feeds);
});

test('LinearAttention delta, shared beta, no past, no present_state output (the state in scratch): 1, 2, 3 threads give the same bits', async () => {
  const B = 3, T = 50, H = 4, dk = 33, dv = 38, kr = Math.sqrt(3 / dk);
  const feeds = { q: f([B, T, H * dk]), k: f([B, T, H * dk], -kr, kr), v: f([B, T, H * dv]), beta: f([B, T, 1], 0, 1) };
  await sameOnThreads(oneNode('LinearAttention', { q_num_heads: H, kv_num_heads: H, update_rule: 'delta', scale: { float: 0.3 } }, feeds, ['q', 'k', 'v', '', '', 'beta'], 1), feeds);
});

test('CausalConvWithState silu with bias and past, L with a tail: 1, 2, 3 threads give the same bits', async () => {
  const B = 2, C = 301, L = 1029, K = 4;
  const feeds = { x: f([B, C, L]), w: f([C, 1, K]), bias: f([C]), past: f([B, C, K - 1]) };
  await sameOnThreads(oneNode('CausalConvWithState', { activation: 'silu' }, feeds, ['x', 'w', 'bias', 'past'], 2), feeds);
});
