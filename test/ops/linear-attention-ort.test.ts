// LinearAttention and CausalConvWithState (ai.onnx opset 27) against onnxruntime-web (wasm, 1 thread)
// on seeded random inputs. onnxruntime-web 1.30 refuses opset-27 models ("under development"), but
// its com.microsoft contrib ops of the same names take the same inputs and attributes (and give the
// ONNX conformance data's answers): onnxruntime runs the contrib node, Kiln the ai.onnx one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors, type Tolerance } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { randomTensor, type InputSpec } from './op-harness.ts';

ort.env.wasm.numThreads = 1;

const F32_TOL: Tolerance = { rtol: 1e-4, atol: 2e-5 };

async function matchesOrt(name: string, op: string, attrs: Readonly<Record<string, WriterAttribute>>, specs: readonly (InputSpec | undefined)[], tolerance = F32_TOL): Promise<void> {
  const rng = testRng(import.meta.url, name);
  const feeds: Record<string, AnyTensor> = {};
  const inputs: { name: string; dtype: DataType; dims: readonly number[] }[] = [];
  const names = specs.map((spec, i) => {
    if (!spec) return '';
    feeds[`in${i}`] = randomTensor(spec, rng);
    inputs.push({ name: `in${i}`, dtype: spec.dtype, dims: spec.dims });
    return `in${i}`;
  });
  const dtype = specs[0]!.dtype;
  const model = (domain: string, opsets: Record<string, number>): Uint8Array => encodeOnnxModel({
    nodes: [{ opType: op, domain, inputs: names, outputs: ['y', 'state'], attrs }],
    inputs,
    outputs: [{ name: 'y', dtype }, { name: 'state', dtype }],
    initializers: {},
    opsets,
  });
  const theirs = await ort.InferenceSession.create(model('com.microsoft', { '': 21, 'com.microsoft': 1 }), { executionProviders: ['wasm'] });
  const want = await theirs.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims])])));
  await theirs.release();
  const bytes = model('', { '': 27 });
  for (const provider of ['js', 'wasm', 'webgpu'] as const) {
    const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
    try {
      const got = await s.run(feeds);
      if (provider === 'webgpu') assert.equal(s.lastPlacement?.cpu ?? 1, 0, `${name}: ${op} fell back to the CPU on webgpu`);
      if (provider === 'wasm') assert.ok(s.lastPlacement?.steps.every((st) => st.implementation === 'wasm'), `${name}: ${op} did not run its wasm kernel`);
      for (const out of ['y', 'state']) {
        const w = want[out]!;
        const problem = compareTensors(got[out]!, new Tensor(w.type as DataType, w.data as Float32Array, [...w.dims]), tolerance);
        assert.equal(problem, undefined, `${name} ${out} on ${provider} (seed ${rng.seed}): ${problem}`);
      }
    } finally {
      await s.release();
    }
  }
}

const t = (dims: number[], range: [number, number] = [-1, 1]): InputSpec => ({ dtype: 'float32', dims, range });

test('CausalConvWithState matches onnxruntime-web (com.microsoft form)', async () => {
  const OP = 'CausalConvWithState';
  await matchesOrt('conv silu bias past', OP, { activation: 'silu' }, [t([2, 6, 9]), t([6, 1, 4]), t([6]), t([2, 6, 3])]);
  await matchesOrt('conv none no past', OP, {}, [t([1, 5, 7]), t([5, 1, 3])]);
  await matchesOrt('conv short input with past', OP, { activation: 'swish' }, [t([2, 3, 2]), t([3, 1, 5]), undefined, t([2, 3, 4])]);
});

test('LinearAttention matches onnxruntime-web (com.microsoft form), every update rule', async () => {
  const OP = 'LinearAttention';
  const [B, T, Hq, Hkv, dk, dv] = [2, 5, 4, 2, 8, 6];
  const kr = Math.sqrt(3 / dk); // keys of about unit norm, as the delta rules assume
  const qkv = [t([B, T, Hq * dk]), t([B, T, Hkv * dk], [-kr, kr]), t([B, T, Hkv * dv])];
  const past = t([B, Hkv, dk, dv], [-0.5, 0.5]);
  const decay = t([B, T, Hkv * dk], [-1, 0]);
  const beta = t([B, T, Hkv], [0, 1]);
  const heads = { q_num_heads: Hq, kv_num_heads: Hkv };
  await matchesOrt('la linear', OP, { ...heads, update_rule: 'linear' }, [...qkv, past]);
  await matchesOrt('la gated per-head decay', OP, { ...heads, update_rule: 'gated' }, [...qkv, past, t([B, T, Hkv], [-1, 0])]);
  await matchesOrt('la delta', OP, { ...heads, update_rule: 'delta' }, [...qkv, undefined, undefined, beta]);
  await matchesOrt('la gated_delta GQA with past', OP, heads, [...qkv, past, decay, beta]);
  await matchesOrt('la gated_delta shared beta, scale', OP, { ...heads, scale: { float: 0.2 } }, [...qkv, undefined, decay, t([B, T, 1], [0, 1])]);
});
