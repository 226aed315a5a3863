// QDQ lowering (runtime/graph/passes/qdq-*.ts): weight DequantizeLinear -> Conv/MatMul/Gemm become
// dequant-fused kernels that keep the weights packed on the GPU; results equal the unlowered
// graph (graphOptimizationLevel 'disabled': the planner folds DequantizeLinear into float32
// weights) on CPU and WebGPU, on fresh random weights and inputs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { toNumbers } from '../../kernels/common/values.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { activationQdq, biasDq, quantizeWeight, randn, weightDq, type WriterModel } from './qdq-fixtures.ts';
import '../../kernels/all-ops.ts'; // every lazily loaded op family registered, as a session loads them (kernels/lazy-families.ts)
import '../../runtime/graph/passes/qdq-lowering.ts'; // optimizeGraph needs it loaded, as a session loads it (loadGraphPassesFor)

interface Case {
  readonly name: string;
  readonly model: WriterModel;
  readonly feeds: Record<string, AnyTensor>;
  /** op types the lowered graph must contain */
  readonly lowered: readonly string[];
  /** activation Q/DQ after a lowered op: a last-bit difference may move a value across a rounding boundary */
  readonly innerQdq?: { readonly step: number };
}

const input = (name: string, dims: number[]) => ({ name, dtype: 'float32' as const, dims });
const feed = (dims: number[]) => randomTensor({ dtype: 'float32', dims, range: [-1, 1] });

/** onnxruntime quantize_static pattern: QDQ input, per-channel int8 Conv + int32 bias, Relu, QDQ, uint8 per-tensor 1x1 Conv. */
function convCase(): Case {
  const inits = new Map<string, AnyTensor>();
  const a = activationQdq('x', 'x', 2 / 255, 128, inits);
  const w1 = quantizeWeight(randn(8 * 4 * 9, 0.5), [8, 4, 3, 3], 'int8', 0);
  const d1 = weightDq('c1', w1, inits);
  const b1 = biasDq('c1', randn(8, 0.3), (2 / 255) * (w1.scale.data as Float32Array)[0]!, inits);
  const a2 = activationQdq('r', 'relu', 4 / 255, 0, inits);
  const d2 = weightDq('c2', quantizeWeight(randn(6 * 8, 0.5), [6, 8, 1, 1], 'uint8'), inits);
  const nodes: WriterNode[] = [
    ...a.nodes, d1.node, b1.node,
    { opType: 'Conv', name: 'conv1', inputs: [a.output, d1.output, b1.output], outputs: ['c1_y'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    { opType: 'Relu', name: 'relu1', inputs: ['c1_y'], outputs: ['relu'] },
    ...a2.nodes, d2.node,
    { opType: 'Conv', name: 'conv2', inputs: [a2.output, d2.output], outputs: ['y'] },
  ];
  return {
    name: 'Conv: int8 per-channel + int32 bias + Relu, uint8 asymmetric per-tensor 1x1 (opset 13)',
    model: { nodes, inputs: [input('x', [1, 4, 10, 12])], outputs: [input('y', [1, 6, 10, 12])], initializers: inits, opsets: { '': 13 } },
    feeds: { x: feed([1, 4, 10, 12]) },
    // the bias scale is channel 0's x_scale * w_scale for every channel, not QLinearConv's int32 bias
    // (x_scale * w_scale[c]): the group keeps the float path (qdq-qlinear-conv.ts, docs/decisions.md)
    lowered: ['DequantConv', 'DequantConv', 'QuantizeDequantize'],
    innerQdq: { step: 4 / 255 },
  };
}

function depthwiseInt4Case(): Case {
  const inits = new Map<string, AnyTensor>();
  const dw = weightDq('dw', quantizeWeight(randn(12 * 9), [12, 1, 3, 3], 'int8', 0), inits);
  const pw = weightDq('pw', quantizeWeight(randn(10 * 48), [10, 48, 1, 1], 'int4', 1, 16), inits);
  const nodes: WriterNode[] = [
    dw.node, pw.node,
    { opType: 'Conv', name: 'dw', inputs: ['x', dw.output], outputs: ['h'], attrs: { group: 12, pads: [1, 1, 1, 1], strides: [1, 2] } },
    { opType: 'Reshape', name: 'tile', inputs: ['h', 'shape'], outputs: ['h4'] },
    { opType: 'Conv', name: 'pw', inputs: ['h4', pw.output], outputs: ['y'] },
  ];
  inits.set('shape', new Tensor('int64', BigInt64Array.from([1n, 48n, 3n, 2n]), [4]));
  return {
    name: 'Conv: depthwise int8 per-channel, int4 blocked along input channels (opset 21)',
    model: { nodes, inputs: [input('x', [1, 12, 6, 8])], outputs: [input('y', [1, 10, 3, 2])], initializers: inits, opsets: { '': 21 } },
    feeds: { x: feed([1, 12, 6, 8]) },
    lowered: ['DequantConv', 'DequantConv'],
  };
}

function matmulCase(): Case {
  const inits = new Map<string, AnyTensor>();
  const a = activationQdq('x', 'x', 2 / 255, 127, inits);
  const w = weightDq('m', quantizeWeight(randn(40 * 24), [40, 24], 'int8', 1), inits);
  inits.set('bias', new Tensor('float32', randn(24), [24]));
  const nodes: WriterNode[] = [
    ...a.nodes, w.node,
    { opType: 'MatMul', name: 'mm', inputs: [a.output, w.output], outputs: ['mm_y'] },
    { opType: 'Add', name: 'add', inputs: ['bias', 'mm_y'], outputs: ['y'] },
  ];
  return {
    name: 'MatMul: int8 per-column weight + Add bias, 3-D input (opset 13)',
    model: { nodes, inputs: [input('x', [2, 3, 40])], outputs: [input('y', [2, 3, 24])], initializers: inits, opsets: { '': 13 } },
    feeds: { x: feed([2, 3, 40]) },
    lowered: ['MatMulNBits'],
  };
}

function gemmCase(): Case {
  const inits = new Map<string, AnyTensor>();
  const w = quantizeWeight(randn(16 * 48), [16, 48], 'int8', 0);
  const d = weightDq('g', w, inits);
  const b = biasDq('g', randn(16), 0.001, inits);
  const nodes: WriterNode[] = [d.node, b.node, { opType: 'Gemm', name: 'gemm', inputs: ['x', d.output, b.output], outputs: ['y'], attrs: { transB: 1, alpha: 0.5, beta: 2 } }];
  return {
    name: 'Gemm transB=1: int8 per-channel (PyTorch Linear), int32 bias, alpha and beta (opset 13)',
    model: { nodes, inputs: [input('x', [5, 48])], outputs: [input('y', [5, 16])], initializers: inits, opsets: { '': 13 } },
    feeds: { x: feed([5, 48]) },
    lowered: ['MatMulNBits'],
  };
}

function int4MatMulCase(dtype: 'int4' | 'uint4', block: number): Case {
  const inits = new Map<string, AnyTensor>();
  const w = weightDq('m', quantizeWeight(randn(70 * 20), [70, 20], dtype, 0, block), inits);
  return {
    name: `MatMul: ${dtype} blocked along K (block ${block}, K = 70 not a multiple; opset 21)`,
    model: { nodes: [w.node, { opType: 'MatMul', name: 'mm', inputs: ['x', w.output], outputs: ['y'] }], inputs: [input('x', [3, 70])], outputs: [input('y', [3, 20])], initializers: inits, opsets: { '': 21 } },
    feeds: { x: feed([3, 70]) },
    lowered: ['MatMulNBits'],
  };
}

/**
 * PyTorch's export of a fake-quantized (QAT) model: float weights pass through QuantizeLinear ->
 * DequantizeLinear (int8 per-channel, zero point 0, axis 0), activations through quint8 pairs.
 */
function pytorchFakeQuantCase(): Case {
  const inits = new Map<string, AnyTensor>();
  const a = activationQdq('x', 'x', 1 / 64, 128, inits);
  const fq = (name: string, w: Float32Array, dims: number[]): WriterNode[] => {
    const q = quantizeWeight(w, dims, 'int8', 0);
    inits.set(`${name}_f`, new Tensor('float32', w, dims));
    inits.set(`${name}_s`, q.scale);
    inits.set(`${name}_z`, new Tensor('int8', new Int8Array(dims[0]!), [dims[0]!]));
    return [
      { opType: 'QuantizeLinear', name: `${name}_Q`, inputs: [`${name}_f`, `${name}_s`, `${name}_z`], outputs: [`${name}_wq`], attrs: { axis: 0 } },
      { opType: 'DequantizeLinear', name: `${name}_DQ`, inputs: [`${name}_wq`, `${name}_s`, `${name}_z`], outputs: [`${name}_w`], attrs: { axis: 0 } },
    ];
  };
  inits.set('fc_b', new Tensor('float32', randn(10), [10]));
  const a2 = activationQdq('h', 'pooled', 1 / 32, 0, inits);
  const nodes: WriterNode[] = [
    ...a.nodes, ...fq('conv', randn(16 * 3 * 9, 0.4), [16, 3, 3, 3]),
    { opType: 'Conv', name: 'conv', inputs: [a.output, 'conv_w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { opType: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
    { opType: 'GlobalAveragePool', name: 'gap', inputs: ['r'], outputs: ['g'] },
    { opType: 'Flatten', name: 'flat', inputs: ['g'], outputs: ['pooled'] },
    ...a2.nodes, ...fq('fc', randn(10 * 16, 0.4), [10, 16]),
    { opType: 'Gemm', name: 'fc', inputs: [a2.output, 'fc_w', 'fc_b'], outputs: ['y'], attrs: { transB: 1 } },
  ];
  return {
    name: 'PyTorch fake-quant export: float W -> Q -> DQ -> Conv / Gemm, quint8 activations (opset 13)',
    model: { nodes, inputs: [input('x', [2, 3, 8, 8])], outputs: [input('y', [2, 10])], initializers: inits, opsets: { '': 13 } },
    feeds: { x: feed([2, 3, 8, 8]) },
    lowered: ['DequantConv', 'MatMulNBits', 'QuantizeDequantize'],
    innerQdq: { step: 1 / 32 },
  };
}

const cases = (): Case[] => [convCase(), depthwiseInt4Case(), matmulCase(), gemmCase(), int4MatMulCase('int4', 32), int4MatMulCase('uint4', 16), pytorchFakeQuantCase()];

/** Worst |got - want| and how many elements differ by more than atol + rtol * |want|. */
function differences(got: AnyTensor, want: AnyTensor): { max: number; over: number; n: number } {
  const g = toNumbers(got);
  const w = toNumbers(want);
  assert.deepEqual(got.dims, want.dims);
  let max = 0;
  let over = 0;
  for (let i = 0; i < w.length; i++) {
    const d = Math.abs(g[i]! - w[i]!);
    max = Math.max(max, d);
    if (!(d <= 1e-4 + 1e-4 * Math.abs(w[i]!))) over++;
  }
  return { max, over, n: w.length };
}

describe('QDQ lowering', () => {
  for (const c of cases()) {
    test(c.name, async () => {
      const bytes = encodeOnnxModel(c.model);
      const ops = optimizeGraph(readOnnxModel(bytes)).nodes.map((n) => n.opType);
      for (const op of c.lowered) assert.ok(ops.includes(op), `lowered graph ${ops.join(', ')} lacks ${op}`);
      assert.equal(ops.filter((o) => o === 'MatMul' || o === 'Gemm' || o === 'Conv').length, 0, `unlowered ops left: ${ops.join(', ')}`);
      const reference = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }], graphOptimizationLevel: 'disabled' });
      const want = await reference.run(c.feeds);
      await reference.release();
      for (const backend of ['js', 'wasm', 'webgpu'] as const) {
        const s = await InferenceSession.create(bytes, { executionProviders: [backend] });
        const got = await s.run(c.feeds);
        if (backend === 'webgpu') assert.equal(s.lastPlacement?.cpu, 0, 'a step fell back to the CPU');
        await s.release();
        for (const name of Object.keys(want)) {
          const d = differences(got[name]!, want[name]!);
          if (!c.innerQdq) assert.equal(d.over, 0, `${backend} ${name}: ${d.over}/${d.n} elements off, worst ${d.max}`);
          else {
            // f32 sums in another order may put a value on the other side of a rounding boundary of
            // the next QuantizeLinear: one step there, times the next layer's weights, at a few elements
            assert.ok(d.over <= Math.max(2, d.n * 0.02), `${backend} ${name}: ${d.over}/${d.n} elements off, worst ${d.max}`);
            assert.ok(d.max < c.innerQdq.step * 8, `${backend} ${name}: worst difference ${d.max}`);
          }
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// GPU memory: the constant buffers the WebGPU backend creates, by label (kiln-const-<name>).
// ---------------------------------------------------------------------------------------------

async function constantBytes(bytes: Uint8Array, options: { graphOptimizationLevel?: 'disabled' }, feeds: Record<string, AnyTensor>): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const proto = (globalThis as { GPUDevice?: { prototype: { createBuffer: (d: GPUBufferDescriptor) => GPUBuffer } } }).GPUDevice?.prototype;
  assert.ok(proto, 'GPUDevice is not installed (Dawn globals)');
  const original = proto.createBuffer;
  proto.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    if (d.label?.startsWith('kiln-const-')) sizes.set(d.label.slice('kiln-const-'.length), d.size);
    return original.call(this, d);
  };
  try {
    const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'], ...options });
    await s.run(feeds);
    await s.release();
  } finally {
    proto.createBuffer = original;
  }
  return sizes;
}

test('GPU weight bytes: int8 is 1/4 and int4 1/8 of the float32 weights', async () => {
  // make sure the Dawn globals (GPUDevice) exist before patching
  await (await InferenceSession.create(encodeOnnxModel(int4MatMulCase('int4', 32).model), { executionProviders: ['webgpu'] })).release();
  const K = 256, N = 96;
  for (const [dtype, axis, block, ratio] of [['int8', 1, 0, 4], ['int4', 0, 32, 8]] as const) {
    const inits = new Map<string, AnyTensor>();
    const w = weightDq('w', quantizeWeight(randn(K * N), [K, N], dtype, axis, block), inits);
    const model: WriterModel = {
      nodes: [w.node, { opType: 'MatMul', name: 'mm', inputs: ['x', w.output], outputs: ['y'] }],
      inputs: [input('x', [2, K])], outputs: [input('y', [2, N])], initializers: inits, opsets: { '': 21 },
    };
    const bytes = encodeOnnxModel(model);
    const feeds = { x: feed([2, K]) };
    const lowered = await constantBytes(bytes, {}, feeds);
    const plain = await constantBytes(bytes, { graphOptimizationLevel: 'disabled' }, feeds);
    const f32 = plain.get('w_w');
    assert.equal(f32, K * N * 4, `unlowered: the folded float32 weight (${[...plain].join('; ')})`);
    const packed = lowered.get('mm/nbits_B');
    assert.equal(packed, (K * N * 4) / ratio, `lowered ${dtype}: packed weight buffer (${[...lowered].join('; ')})`);
    assert.ok(![...lowered.values()].includes(K * N * 4), 'a float32 copy of the weight was uploaded too');
  }
  // Conv: the int8 weight buffer itself, no float copy
  const c = convCase();
  const sizes = await constantBytes(encodeOnnxModel(c.model), {}, c.feeds);
  assert.equal(sizes.get('c1_q'), Math.ceil((8 * 4 * 9) / 16) * 16, `conv int8 weight (${[...sizes].join('; ')})`);
  assert.ok(!sizes.has('c1_w'), 'a float32 copy of the conv weight was uploaded');
});
