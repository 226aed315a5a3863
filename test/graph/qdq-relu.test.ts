// dropReluBeforeQuantize (runtime/graph/passes/qdq-relu.ts): Relu -> QuantizeLinear drops the Relu
// only when the zero point is the quantized type's minimum (then saturation does the Relu's work),
// and the result is unchanged on inputs of both signs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them (kernels/lazy-families.ts)
import '../../runtime/graph/passes/qdq-lowering.ts'; // optimizeGraph needs it loaded, as a session loads it (loadGraphPassesFor)

function model(zp: AnyTensor): Uint8Array {
  return encodeOnnxModel({
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['r'] },
      { opType: 'QuantizeLinear', inputs: ['r', 's', 'zp'], outputs: ['q'] },
      { opType: 'DequantizeLinear', inputs: ['q', 's', 'zp'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', dims: [64] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [64] }],
    initializers: { s: new Tensor('float32', Float32Array.of(0.05), []), zp },
    opsets: { '': 17 },
  });
}

const cases = [
  { name: 'uint8, zero point 0', zp: new Tensor('uint8', Uint8Array.of(0), []), dropped: true },
  { name: 'int8, zero point -128', zp: new Tensor('int8', Int8Array.of(-128), []), dropped: true },
  { name: 'uint8, zero point 128', zp: new Tensor('uint8', Uint8Array.of(128), []), dropped: false },
  { name: 'int8, zero point 0', zp: new Tensor('int8', Int8Array.of(0), []), dropped: false },
];

for (const c of cases) {
  test(`Relu before QuantizeLinear (${c.name}) ${c.dropped ? 'is dropped' : 'stays'}, same values`, async () => {
    const bytes = model(c.zp);
    const ops = optimizeGraph(readOnnxModel(bytes)).nodes.map((n) => n.opType);
    assert.equal(ops.includes('Relu'), !c.dropped, ops.join(', '));
    // both signs, zero and values past the quantized range
    const x = new Tensor('float32', Float32Array.from({ length: 64 }, (_, i) => (i - 32) * 0.37), [64]);
    const plain = await InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
    const want = (await plain.run({ x })).y!.data as Float32Array;
    await plain.release();
    const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const got = (await s.run({ x })).y!.data as Float32Array;
    await s.release();
    assert.deepEqual(Array.from(got), Array.from(want));
    assert.ok(want.every((v) => v >= 0), 'the Relu clips negatives either way');
  });
}
