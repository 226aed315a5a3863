import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { runBadInputCases } from './op-errors.ts';
import { runOpCases, type InputSpec, type OpCase } from './op-harness.ts';

const f32 = (dims: number[]): InputSpec => ({ dtype: 'float32', dims });
const f16 = (dims: number[]): InputSpec => ({ dtype: 'float16', dims });
const cache = (dims: number[]): InputSpec => ({ dtype: 'float32', dims, range: [-1, 1] });
const pos = (dims: number[], hi: number): InputSpec => ({ dtype: 'int64', dims, range: [0, hi] });
const offset = (v: number, dims: number[] = [1]): InputSpec => ({ dtype: 'int64', dims, values: [v], feed: true });
const omit: InputSpec = { dtype: 'float32', dims: [0], omit: true };
const MS = 'com.microsoft';
const ROPE = 'RotaryEmbedding';

const cases: OpCase[] = [
  // com.microsoft: input, position_ids, cos_cache, sin_cache
  { name: 'contrib 3-D, position_ids (B, S)', op: ROPE, domain: MS, inputs: [f32([2, 3, 16]), pos([2, 3], 10), cache([10, 8]), cache([10, 8])] },
  { name: 'contrib 3-D interleaved', op: ROPE, domain: MS, attrs: { interleaved: 1 }, inputs: [f32([2, 3, 16]), pos([2, 3], 10), cache([10, 8]), cache([10, 8])] },
  { name: 'contrib one position offset', op: ROPE, domain: MS, inputs: [f32([2, 4, 12]), offset(3), cache([8, 6]), cache([8, 6])] },
  { name: 'contrib scalar position offset', op: ROPE, domain: MS, attrs: { interleaved: 1 }, inputs: [f32([1, 3, 8]), offset(2, []), cache([6, 4]), cache([6, 4])] },
  { name: 'contrib num_heads from the cache (2 heads of 8)', op: ROPE, domain: MS, inputs: [f32([1, 5, 16]), pos([1, 5], 7), cache([7, 4]), cache([7, 4])] },
  { name: 'contrib partial rotary_embedding_dim', op: ROPE, domain: MS, attrs: { num_heads: 2, rotary_embedding_dim: 4 }, inputs: [f32([2, 3, 20]), pos([2, 3], 9), cache([9, 2]), cache([9, 2])] },
  { name: 'contrib partial rotary interleaved', op: ROPE, domain: MS, attrs: { num_heads: 3, rotary_embedding_dim: 6, interleaved: 1 }, inputs: [f32([1, 4, 30]), pos([1, 4], 5), cache([5, 3]), cache([5, 3])] },
  { name: 'contrib 4-D (B, N, S, H)', op: ROPE, domain: MS, inputs: [f32([2, 3, 4, 8]), pos([2, 4], 6), cache([6, 4]), cache([6, 4])] },
  { name: 'contrib float16', op: ROPE, domain: MS, inputs: [f16([1, 3, 16]), pos([1, 3], 4), { dtype: 'float16', dims: [4, 8], range: [-1, 1] }, { dtype: 'float16', dims: [4, 8], range: [-1, 1] }], tolerance: { rtol: 2e-3, atol: 2e-3 } },
  { name: 'contrib is_packed_batching and scale accepted', op: ROPE, domain: MS, attrs: { is_packed_batching: 0, scale: 1.0 }, inputs: [f32([1, 2, 8]), pos([1, 2], 3), cache([3, 4]), cache([3, 4])] },
  // ai.onnx 23: X, cos_cache, sin_cache, position_ids?
  { name: 'onnx 4-D with position_ids', op: ROPE, opset: 23, inputs: [f32([2, 3, 4, 8]), cache([10, 4]), cache([10, 4]), pos([2, 4], 10)] },
  { name: 'onnx 4-D interleaved', op: ROPE, opset: 23, attrs: { interleaved: 1 }, inputs: [f32([1, 2, 3, 6]), cache([5, 3]), cache([5, 3]), pos([1, 3], 5)] },
  { name: 'onnx 3-D with num_heads', op: ROPE, opset: 23, attrs: { num_heads: 2 }, inputs: [f32([2, 3, 12]), cache([8, 3]), cache([8, 3]), pos([2, 3], 8)] },
  { name: 'onnx without position_ids (caches per token)', op: ROPE, opset: 23, inputs: [f32([2, 2, 3, 8]), cache([2, 3, 4]), cache([2, 3, 4]), omit] },
  { name: 'onnx partial rotary dim without position_ids', op: ROPE, opset: 23, attrs: { rotary_embedding_dim: 4 }, inputs: [f32([1, 2, 3, 10]), cache([1, 3, 2]), cache([1, 3, 2])] },
  { name: 'onnx partial rotary interleaved, 3-D', op: ROPE, opset: 23, attrs: { rotary_embedding_dim: 4, interleaved: 1, num_heads: 2 }, inputs: [f32([1, 3, 16]), cache([4, 2]), cache([4, 2]), pos([1, 3], 4)] },
  { name: 'onnx float16', op: ROPE, opset: 23, inputs: [f16([1, 2, 3, 8]), { dtype: 'float16', dims: [4, 4], range: [-1, 1] }, { dtype: 'float16', dims: [4, 4], range: [-1, 1] }, pos([1, 3], 4)], tolerance: { rtol: 2e-3, atol: 2e-3 } },
];

runOpCases('rotary-embedding', cases);

runBadInputCases('rotary-embedding', [
  { name: 'contrib rotary_embedding_dim without num_heads', op: ROPE, domain: MS, attrs: { rotary_embedding_dim: 4 }, inputs: [f32([1, 2, 8]), pos([1, 2], 3), cache([3, 2]), cache([3, 2])], error: /num_heads must be provided/ },
  { name: 'contrib caches of different shapes', op: ROPE, domain: MS, inputs: [f32([1, 2, 8]), pos([1, 2], 3), cache([3, 4]), cache([4, 4])], error: /must have the same shape/ },
  { name: 'contrib position_ids shape', op: ROPE, domain: MS, inputs: [f32([1, 2, 8]), pos([2, 2], 3), cache([3, 4]), cache([3, 4])], error: /position_ids must be one value or \(1, 2\)/ },
  { name: 'onnx 3-D without num_heads', op: ROPE, opset: 23, inputs: [f32([1, 2, 8]), cache([3, 4]), cache([3, 4]), pos([1, 2], 3)], error: /num_heads is required/ },
  { name: 'onnx cache width', op: ROPE, opset: 23, inputs: [f32([1, 2, 3, 8]), cache([3, 3]), cache([3, 3]), pos([1, 3], 3)], error: /cos_cache width 3 must be rotary_embedding_dim \/ 2 = 4/ },
]);

test('a position outside the caches: INVALID_ARGUMENT on the CPU, the input passed through on WebGPU (as onnxruntime\'s WebGPU kernel)', async () => {
  const bytes = encodeOnnxModel({
    nodes: [{ opType: ROPE, domain: MS, inputs: ['x', 'pos', 'cos', 'sin'], outputs: ['y'], attrs: {} }],
    inputs: [{ name: 'x', dtype: 'float32', dims: [1, 2, 8] }, { name: 'pos', dtype: 'int64', dims: [1, 2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: { cos: new Tensor('float32', new Float32Array(16).fill(0.5), [4, 4]), sin: new Tensor('float32', new Float32Array(16).fill(0.866), [4, 4]) },
    opsets: { '': 17, [MS]: 1 },
  });
  const x = new Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 2, 8]);
  const pos = new Tensor('int64', BigInt64Array.from([999n, -5n]), [1, 2]);
  const cpu = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  await assert.rejects(cpu.run({ x, pos }), (e: unknown) => e instanceof KilnError && e.code === 'INVALID_ARGUMENT' && /position 999 is outside the cos\/sin caches \(4 rows\)/.test(e.message));
  await cpu.release();
  const gpu = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
  const y = (await gpu.run({ x, pos })).y!;
  assert.equal(gpu.lastPlacement?.cpu, 0);
  assert.deepEqual(Array.from(y.data as Float32Array), Array.from(x.data));
  await gpu.release();
});
